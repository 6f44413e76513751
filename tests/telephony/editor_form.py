"""Read the block editor's form out of a page as a browser would submit it (fields, ticked boxes, chosen options)."""

from __future__ import annotations

from html.parser import HTMLParser


class _EditorForm(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "flow-editor":
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button"):
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "select" and self._select is not None:
            chosen = [v for v, sel in self._options if sel] or [v for v, _ in self._options[:1]]
            self.fields.append((self._select, chosen[0] if chosen else ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self.inside = False


class Form:
    """The editor's fields as (name, value) pairs; ``set`` changes one, ``post_data`` is what a client posts."""

    def __init__(self, html: str):
        parser = _EditorForm()
        parser.feed(html)
        assert parser.fields, "no block editor on the page"
        self.fields = parser.fields

    def get(self, name: str) -> str:
        return next(v for k, v in self.fields if k == name)

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self.fields if k == name]

    def set(self, name: str, value) -> Form:
        values = value if isinstance(value, list) else [value]
        at = next((i for i, (k, _) in enumerate(self.fields) if k == name), len(self.fields))
        self.fields = [f for f in self.fields if f[0] != name]
        self.fields[at:at] = [(name, v) for v in values]
        return self

    def index_of(self, block_id: str) -> int:
        for name, value in self.fields:
            if name.startswith("blocks-") and name.endswith("-id") and value == block_id:
                return int(name.split("-")[1])
        raise KeyError(block_id)

    def post_data(self, action: str, **extra) -> dict:
        data: dict[str, list[str]] = {}
        for name, value in self.fields:
            data.setdefault(name, []).append(value)
        data["action"] = [action]
        for name, value in extra.items():
            data[name] = [value]
        return data
