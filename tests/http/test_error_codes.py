"""One error dialect: every code is UPPER_SNAKE, keeps one HTTP status, and is in the README.

Read from the source (ast), so the test sees every code, including ones no other test reaches:
``code="..."`` passed to an ``ApiError`` subclass (directly, or through a local variable),
``code = "..."`` on a subclass, the codes the
middleware gives plain HTTP errors, error replies and WebSocket ``error`` events written as dict
literals, and the categories of pipeline error frames (sent to the patient as ``error`` events).
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dhanvantri"
UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
ROW = re.compile(r"^\|\s*`([A-Z0-9_]+)`\s*\|\s*(\d{3}|event)\s*\|")


@dataclass(frozen=True)
class Use:
    """One place a code is given: its status (None for a WebSocket event) and where."""

    code: str
    status: int | None
    where: str


def _trees() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield str(path.relative_to(ROOT)), ast.parse(path.read_text())


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _text(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _texts(node: ast.expr, local: dict[str, list[str]]) -> list[str]:
    """The codes an expression can be: a literal, either branch of ``a if c else b``, or a
    local variable assigned such values in the same function."""
    if isinstance(node, ast.IfExp):
        return _texts(node.body, local) + _texts(node.orelse, local)
    if isinstance(node, ast.Name):
        return local.get(node.id, [])
    text = _text(node)
    return [text] if text else []


def _locals(tree: ast.Module) -> dict[ast.AST, dict[str, list[str]]]:
    """For each call, the string values of the local variables of its function."""
    scopes: dict[ast.AST, dict[str, list[str]]] = {}
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        local: dict[str, list[str]] = {}
        for node in ast.walk(function):
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)):
                local.setdefault(node.targets[0].id, []).extend(_texts(node.value, {}))
        for node in ast.walk(function):
            if isinstance(node, ast.Call):
                scopes[node] = local
    return scopes


def _error_classes() -> dict[str, int]:
    """Every ``ApiError`` subclass in the package with its HTTP status (inherited if unset)."""
    bases: dict[str, list[str]] = {}
    statuses: dict[str, int] = {}
    for _, tree in _trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases[node.name] = [n for n in map(_name, node.bases) if n]
            for item in node.body:
                if (isinstance(item, ast.Assign) and len(item.targets) == 1
                        and _name(item.targets[0]) == "status"
                        and isinstance(item.value, ast.Constant)):
                    statuses[node.name] = int(item.value.value)

    def status(name: str) -> int | None:
        if name in statuses:
            return statuses[name]
        return next((s for b in bases.get(name, []) if (s := status(b)) is not None), None)

    def is_error(name: str) -> bool:
        return name == "ApiError" or any(is_error(b) for b in bases.get(name, []))

    return {name: s for name in bases if is_error(name) and (s := status(name)) is not None}


def _dict_uses(node: ast.Dict, where: str) -> Iterator[Use]:
    items = {_text(k): v for k, v in zip(node.keys, node.values, strict=True) if _text(k)}
    code = _text(items.get("code"))
    if code is None:
        return
    status = items.get("status")
    if isinstance(status, ast.Constant) and isinstance(status.value, int):
        yield Use(code, status.value, where)  # an error reply sent over the bus
    elif _text(items.get("type")) == "error":
        yield Use(code, None, where)  # a WebSocket error event (no HTTP status)


def uses() -> list[Use]:
    """Every literal error code in the package."""
    classes = _error_classes()
    found: list[Use] = []
    for file, tree in _trees():
        scopes = _locals(tree)
        for node in ast.walk(tree):
            where = f"{file}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ClassDef) and node.name in classes:
                for item in node.body:
                    if (isinstance(item, ast.Assign) and _name(item.targets[0]) == "code"
                            and (code := _text(item.value))):
                        found.append(Use(code, classes[node.name], where))
            elif isinstance(node, ast.Call):
                callee = _name(node.func)
                if callee in classes:
                    found += [Use(code, classes[callee], where) for keyword in node.keywords
                              if keyword.arg == "code"
                              for code in _texts(keyword.value, scopes.get(node, {}))]
                elif callee == "push_error" and node.args and (code := _text(node.args[0])):
                    found.append(Use(code, None, where))  # reaches the patient as an event
                elif (callee == "error_response" and len(node.args) > 1
                      and isinstance(node.args[0], ast.Constant)
                      and (code := _text(node.args[1]))):
                    found.append(Use(code, int(node.args[0].value), where))
            elif isinstance(node, ast.Dict):
                found += _dict_uses(node, where)
            elif (isinstance(node, ast.Assign) and _name(node.targets[0]) == "_HTTP_CODES"
                  and isinstance(node.value, ast.Dict)):
                for key, value in zip(node.value.keys, node.value.values, strict=True):
                    if isinstance(key, ast.Constant) and (code := _text(value)):
                        found.append(Use(code, int(key.value), where))
    return found


def readme_table() -> dict[str, int | None]:
    """The README's "Errors" table: code to status (None: a WebSocket event, no status)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    return {m[1]: None if m[2] == "event" else int(m[2])
            for line in section.splitlines() if (m := ROW.match(line))}


def test_the_walk_finds_the_codes_it_should() -> None:
    found = {(u.code, u.status) for u in uses()}
    assert {("NOT_FOUND", 404), ("VALIDATION_ERROR", 422), ("SERVER_BUSY", 503),
            ("METHOD_NOT_ALLOWED", 405), ("NOT_ACCEPTED", 409)} <= found
    assert len(found) > 40


def test_codes_are_upper_snake() -> None:
    wrong = sorted(f"{u.code} ({u.where})" for u in uses() if not UPPER_SNAKE.match(u.code))
    assert not wrong


def http_statuses() -> dict[str, set[int]]:
    """Each code's HTTP statuses (a code sent only in WebSocket events has none)."""
    statuses: dict[str, set[int]] = defaultdict(set)
    for use in uses():
        statuses[use.code] |= {use.status} if use.status is not None else set()
    return statuses


def test_each_code_has_one_status() -> None:
    mixed = {code: sorted(f"{u.status} at {u.where}" for u in uses() if u.code == code)
             for code, found in http_statuses().items() if len(found) > 1}
    assert not mixed


def test_the_readme_documents_every_code() -> None:
    in_source = {code: min(found, default=None) for code, found in http_statuses().items()}
    assert readme_table() == in_source
