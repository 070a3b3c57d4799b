"""import-linter contract types of our own, loaded by ``lint-imports`` (see pyproject.toml).

This lives outside ``src/`` because production does not install import-linter.

``allowlist``: every module under ``source_modules`` may import only modules named in
``allowed_modules`` (a name allows itself and everything under it). A forbidden list cannot
express "the pure core imports nothing else": a new adapter, a new library or a standard
module that reads the disk slips past it. External and standard-library modules appear in the
graph under their top-level name (``collections``, not ``collections.abc``), so the allowlist
names them that way.
"""

from __future__ import annotations

from dataclasses import dataclass

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


@dataclass(frozen=True, slots=True)
class _Violation:
    importer: str
    imported: str
    line_numbers: tuple[int, ...]


def _within(module: str, names: frozenset[str]) -> bool:
    parts = module.split(".")
    return any(".".join(parts[:i]) in names for i in range(1, len(parts) + 1))


class AllowlistContract(Contract):
    """Modules under ``source_modules`` import nothing but ``allowed_modules``.

    Options:
        - source_modules: packages or modules the rule covers (with everything under them).
        - allowed_modules: what they may import, internal or external; the source modules do
          not allow themselves implicitly (name them if they may import one another).
    """

    type_name = "allowlist"

    source_modules = fields.ListField(subfield=fields.StringField())
    allowed_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        sources = frozenset(str(name) for name in self.source_modules)  # type: ignore[attr-defined]
        allowed = frozenset(str(name) for name in self.allowed_modules)  # type: ignore[attr-defined]
        missing = sorted(name for name in sources if name not in graph.modules)
        if missing:
            raise ValueError(f"allowlist source modules not found: {', '.join(missing)}")
        violations = []
        for importer in sorted(m for m in graph.modules if _within(m, sources)):
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                if _within(imported, allowed):
                    continue
                details = graph.get_import_details(importer=importer, imported=imported)
                lines = tuple(sorted({int(d["line_number"]) for d in details}))
                violations.append(_Violation(importer, imported, lines))
        output.verbose_print(verbose, f"{len(violations)} imports outside the allowlist.")
        return ContractCheck(kept=not violations, warnings=[], metadata={"found": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for found in check.metadata["found"]:
            lines = ", ".join(f"l.{n}" for n in found.line_numbers)
            output.print_error(
                f"{found.importer} -> {found.imported} ({lines}) is not on the allowlist",
                bold=False,
            )
        output.new_line()
