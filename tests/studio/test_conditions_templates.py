"""Conditions as data and sandboxed templates: the vocabulary, and what they refuse."""

from __future__ import annotations

import pytest

from octopushx.studio import conditions, templating

VARS = {
    "contact": {"first_name": "Ada", "tags": ["VIP", "beta"], "score": "42", "created_at": "2026-01-05T09:00:00+00:00",
                "email": "", "custom": {"tier": "gold"}},
    "steps": {"s1": {"status": 201}},
}  # fmt: skip


@pytest.mark.parametrize(
    "condition, expected",
    [
        ({"field": "contact.first_name", "op": "eq", "value": "ada"}, True),
        ({"field": "contact.first_name", "op": "ne", "value": "Ada"}, False),
        ({"field": "contact.tags", "op": "contains", "value": "vip"}, True),
        ({"field": "contact.tags", "op": "not_contains", "value": "gold"}, True),
        ({"field": "contact.score", "op": "gt", "value": 9}, True),  # numbers compare as numbers, not text
        ({"field": "contact.score", "op": "lte", "value": "41.5"}, False),
        ({"field": "contact.created_at", "op": "lt", "value": "2026-02-01"}, True),
        ({"field": "contact.email", "op": "is_empty"}, True),
        ({"field": "contact.missing.deep", "op": "is_empty"}, True),
        ({"field": "contact.custom.tier", "op": "is_not_empty"}, True),
        ({"field": "steps.s1.status", "op": "gte", "value": 200}, True),
        ({"any": [{"field": "contact.first_name", "op": "eq", "value": "x"},
                  {"all": [{"field": "contact.tags", "op": "contains", "value": "beta"}]}]}, True),
        ({"all": [{"field": "contact.first_name", "op": "eq", "value": "Ada"},
                  {"field": "contact.tags", "op": "contains", "value": "nope"}]}, False),
        ([], True),
    ],
)  # fmt: skip
def test_evaluate(condition, expected):
    assert conditions.evaluate(condition, VARS) is expected


def test_changed_and_changed_to_read_the_event():
    changes = {"lifecycle_stage": True}
    variables = {"contact": {"lifecycle_stage": "customer"}}
    leaf = {"field": "contact.lifecycle_stage", "op": "changed_to", "value": "customer"}
    assert conditions.evaluate(leaf, variables, changes)
    assert not conditions.evaluate(leaf, variables, {})
    assert conditions.evaluate({"field": "contact.lifecycle_stage", "op": "changed"}, variables, changes)


def test_validate_names_each_problem():
    errors = conditions.validate(
        {"all": [{"field": "contact.nope", "op": "eq", "value": 1}, {"field": "contact.x", "op": "resembles"},
                 {"any": "not a list"}, {"field": "contact.x", "op": "gt"}]},
        lambda path: path == "contact.x",
        "c",
    )  # fmt: skip
    assert set(errors) == {"c.all.0.field", "c.all.1.op", "c.all.2.any", "c.all.3.value"}


def test_templates_render_escape_and_refuse():
    assert templating.render("Hi {{ c.n }}", {"c": {"n": "<b>"}}) == "Hi <b>"
    assert templating.render("Hi {{ c.n }}", {"c": {"n": "<b>"}}, html=True) == "Hi &lt;b&gt;"
    assert templating.render_data({"a": ["{{ c.n }}", 3]}, {"c": {"n": "x"}}) == {"a": ["x", 3]}
    with pytest.raises(templating.TemplateProblem, match="Unknown variable: nope"):
        templating.render("{{ c.nope }}", {"c": {}})
    with pytest.raises(templating.TemplateProblem, match="Not allowed"):
        templating.render("{{ c.__class__.__mro__ }}", {"c": {}})
    with pytest.raises(templating.TemplateProblem):
        templating.render("{{ range(10**9) | list }}", {})  # no globals: range is not there
    with pytest.raises(templating.TemplateProblem, match="Template error"):
        templating.referenced_paths("{{ unclosed")


def test_referenced_paths():
    source = "{{ contact.first_name }} {{ steps.s1.body['id'] }} {% for t in contact.tags %}{{ t }}{% endfor %}"
    assert templating.referenced_paths(source) == ["contact.first_name", "steps.s1.body.id", "contact.tags"]
