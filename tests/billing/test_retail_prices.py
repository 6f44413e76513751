"""The pure overlay of a reseller's retail prices on a catalogue snapshot."""

from __future__ import annotations

from octopushx.billing.invoicing import with_retail_prices

CATALOGUE = {
    "plans": [{"slug": "team", "name": "Team", "prices": {"GBP": {"month": "35.00", "year": "350.00"}}}],
    "addons": [{"slug": "studio", "name": "Studio", "prices": {"GBP": {"month": "10.00"}}}],
}


def test_retail_prices_replace_list_prices_and_the_rest_stays():
    out = with_retail_prices(CATALOGUE, {"plans": {"team": {"month": "45.00"}}}, "GBP")
    assert out["plans"][0]["prices"] == {"GBP": {"month": "45.00", "year": "350.00"}}
    assert out["addons"][0]["prices"] == {"GBP": {"month": "10.00"}}


def test_the_catalogue_itself_is_never_changed():
    with_retail_prices(CATALOGUE, {"plans": {"team": {"month": "45.00"}}}, "GBP")
    assert CATALOGUE["plans"][0]["prices"]["GBP"]["month"] == "35.00"


def test_no_book_is_the_catalogue():
    assert with_retail_prices(CATALOGUE, None, "GBP") is CATALOGUE
    assert with_retail_prices(CATALOGUE, {}, "GBP") is CATALOGUE
