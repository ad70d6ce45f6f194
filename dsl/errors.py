"""The root of every exception `dsl/` raises, so a caller can catch the language's failures in
one clause (issue 16). Each stage keeps its own subclass where it is raised - syntax and
checker problems (`dsl.diagnostics.DslError`), compile errors (`dsl.codegen.CompileError`),
evaluation and pricing errors (`dsl.runtime.EvalError`, `dsl.eval_prices_model.PriceError`),
rating refusals (`dsl.eval_usage_setup.RatingError`, `dsl.runtime_usage.Rejected` and
`Deferred`), formatter bugs (`dsl.format_writer.FormatError`) and stored parses of another
format (`dsl.node_codec.CodecError`) - and the edge maps them by class.
"""

from __future__ import annotations

__all__ = ["LanguageError"]


class LanguageError(Exception):
    """A rule source, its compiled form or its evaluation failed."""
