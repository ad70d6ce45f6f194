"""Tariff service: the gRPC edge, wiring, settings and command line."""
