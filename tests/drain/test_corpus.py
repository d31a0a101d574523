"""Every published line and body of tests/drain/corpus.py, posted to a real receiver over
HTTP: the series it must add, and how the receiver counted its frames and lines."""

import pytest

from tests.drain.corpus import SAMPLES
from tests.drain.helpers import value


def _by_kind(samples, name) -> dict[str, float]:
    return {
        dict(labels)["kind"]: count
        for (sample_name, labels), count in samples.items()
        if sample_name == name
    }


def test_the_corpus_has_thirty_distinct_published_samples():
    assert len({sample.body for sample in SAMPLES}) == len(SAMPLES) >= 30


@pytest.mark.parametrize("sample", SAMPLES, ids=[sample.name for sample in SAMPLES])
def test_published_sample_gives_exactly_its_series(serve_app, sample):
    receiver, _ = serve_app(env={"DRAIN_TTL_SECONDS": "3600"})
    assert receiver.post(sample.body, frame_id="corpus") == 204
    scraped = receiver.scrape()
    for (name, labels), expected in sample.effects.items():
        got = value(scraped, name, **dict(labels))
        assert got == (pytest.approx(expected) if expected is not None else None), (name, labels)
    assert _by_kind(scraped, "heroku_drain_lines_parsed_total") == sample.parsed
    assert _by_kind(scraped, "heroku_drain_lines_unparsed_total") == sample.unparsed
    assert value(scraped, "heroku_drain_frames_received_total") == sample.frames
    assert value(scraped, "heroku_drain_frames_malformed_total") == sample.malformed
