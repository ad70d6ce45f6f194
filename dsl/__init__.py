"""The Tariff language: grammar, syntax tree, checker, compiler, runtime and tools."""
