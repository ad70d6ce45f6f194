"""Generated from proto/tariff/v1 by `python -m tariff.codegen`; never edit by hand."""
