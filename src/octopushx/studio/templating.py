"""Templates in workflow steps: ``{{ contact.first_name }}`` through Jinja2's sandbox.

The sandbox refuses attribute access outside plain data (no ``__class__``, no methods that
mutate), the context holds only JSON-like values, and an unknown variable is an error naming
it, never an empty string. HTML (email bodies, notes) is autoescaped; text and JSON bodies are
not (a JSON body is a structure whose string leaves are templates, serialised afterwards, so a
value can never break out of its string).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT = 100_000


class TemplateProblem(ValueError):
    """A template cannot be parsed or rendered; the message names the variable or the syntax error."""


def _environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=autoescape)
    env.globals.clear()  # no range(), lipsum(), dict(), cycler…: data and filters only
    return env


_TEXT = _environment(False)
_HTML = _environment(True)


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value or "{#" in value)


@lru_cache(maxsize=1024)
def _compiled(source: str, html: bool):
    # A workflow's few templates are rendered for every run: compile each once (a compiled
    # template renders from any thread).
    return (_HTML if html else _TEXT).from_string(source)


def render(source: str, variables: dict, *, html: bool = False) -> str:
    if not is_template(source):
        return source
    try:
        out = _compiled(source, html).render(variables)
    except UndefinedError as exc:
        raise TemplateProblem(f"Unknown variable: {_undefined_name(exc)}") from exc
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"Template error: {exc.message}") from exc
    except SecurityError as exc:
        raise TemplateProblem(f"Not allowed in a template: {exc}") from exc
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateProblem(f"Template error: {exc}") from exc
    if len(out) > MAX_OUTPUT:
        raise TemplateProblem(f"The text is longer than {MAX_OUTPUT:,} characters")
    return out


def render_data(value: Any, variables: dict) -> Any:
    """Render every string leaf of a JSON-like structure (keys stay as written)."""
    if isinstance(value, str):
        return render(value, variables)
    if isinstance(value, list):
        return [render_data(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: render_data(item, variables) for key, item in value.items()}
    return value


def _undefined_name(exc: UndefinedError) -> str:
    message = str(exc.message or exc)
    # "'dict object' has no attribute 'frist_name'" / "'contact' is undefined"
    if "has no attribute" in message:
        return message.rsplit("has no attribute", 1)[1].strip().strip("'\"")
    return message.replace(" is undefined", "").strip("'\"")


def referenced_paths(source: str) -> list[str]:
    """The dotted variable paths a template reads (``contact.first_name``); raises ``TemplateProblem``
    on a syntax error. Paths through a subscript with a variable stop before it."""
    if not is_template(source):
        return []
    return list(_referenced_paths(source))


@lru_cache(maxsize=1024)
def _referenced_paths(source: str) -> tuple[str, ...]:
    try:
        tree = _TEXT.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"Template error on line {exc.lineno}: {exc.message}") from exc
    paths: list[str] = []
    local_names = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}

    def chain(node) -> str | None:
        if isinstance(node, nodes.Name):
            return node.name
        if isinstance(node, nodes.Getattr):
            base = chain(node.node)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            base = chain(node.node)
            return f"{base}.{node.arg.value}" if base else None
        return None

    seen_inner: set[int] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        if id(node) in seen_inner:
            continue
        path = chain(node)
        if path is None or (isinstance(node, nodes.Name) and node.ctx != "load"):
            continue
        # Mark the inner nodes of this chain, so only the longest path is kept.
        inner = getattr(node, "node", None)
        while inner is not None:
            seen_inner.add(id(inner))
            inner = getattr(inner, "node", None)
        if path.split(".", 1)[0] in local_names:
            continue
        paths.append(path)
    return tuple(dict.fromkeys(paths))


def paths_in(value: Any) -> list[str]:
    """Every variable path read by the templates in a JSON-like structure."""
    if isinstance(value, str):
        return referenced_paths(value)
    if isinstance(value, list):
        return [p for item in value for p in paths_in(item)]
    if isinstance(value, dict):
        return [p for item in value.values() for p in paths_in(item)]
    return []
