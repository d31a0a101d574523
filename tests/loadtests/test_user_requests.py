"""What the users ask for, from flags and a scenario file (in-process: no load, no server)."""

from loadtests.user_requests import SEED_BODY, UserRequests, WeightedPath, build, weighted_path
from tests.loadtests.helpers import ROOT

EXAMPLES = ROOT / "loadtests" / "examples"


def test_nothing_given_is_the_seeds_page_and_its_140_characters():
    seed = build()
    assert seed.is_seed and seed.names == ["/"] and seed.expect_body == SEED_BODY
    assert seed.expect_status == 200 and seed.method == "GET"


def test_a_weight_follows_the_last_equals_sign():
    assert weighted_path("/db/=3") == WeightedPath("/db/", 3)
    assert weighted_path("/db/") == WeightedPath("/db/", 1)
    # A query ending in `=digits` takes an explicit weight to keep its value.
    assert weighted_path("/search?page=2=1") == WeightedPath("/search?page=2", 1)
    assert weighted_path("/search?q=x") == WeightedPath("/search?q=x", 1)


def test_flags_replace_the_files_settings_and_add_to_its_headers(tmp_path):
    scenario = tmp_path / "app.toml"
    scenario.write_text(
        'paths = [{ path = "/", weight = 3 }, "/db/"]\n'
        'expect_body = "</html>"\n'
        '[headers]\nAccept = "text/html"\nCookie = "a=1"\n'
    )
    from_file = build(scenario)
    assert from_file.paths == (WeightedPath("/", 3), WeightedPath("/db/", 1))
    assert from_file.expect_body == "</html>" and not from_file.is_seed
    both = build(
        scenario,
        paths=[WeightedPath("/about/")],
        headers=[("Cookie", "a=2"), ("X-Test", "1")],
        expect_status=204,
    )
    assert both.names == ["/about/"] and both.expect_status == 204
    assert both.headers == {"Accept": "text/html", "Cookie": "a=2", "X-Test": "1"}
    assert both.expect_body == "</html>"


def test_any_flag_drops_the_seeds_body_check_unless_a_body_is_named():
    own = build(paths=[WeightedPath("/items/")])
    assert own.expect_body is None and own.expect_status == 200
    assert UserRequests.from_json(own.to_json()) == own


def test_the_yaml_example_asks_for_what_the_toml_example_asks_for():
    # The README's Django app (Heroku's Python sample), in either format.
    toml = build(EXAMPLES / "django.toml")
    assert toml.paths == (WeightedPath("/", 3), WeightedPath("/db/", 1))
    assert toml.method == "GET" and toml.headers == {"Accept": "text/html"}
    assert toml.expect_status == 200 and toml.expect_body == "</html>"
    assert build(EXAMPLES / "django.yaml") == toml
    assert build(EXAMPLES / "django.yaml", expect_status=201).expect_status == 201
