"""False flags on real answers typed at human pace, and pastes caught (bench/quality.py, bounded).

docs/quality.md states the bounds: at most 1% of human-paced answers flagged `pasted`; at least
90% of pasted answers long enough to judge caught in Discord, 75% in the terminal (a paste's
first line could have been typed, so only the lines after it are judged). The full
measurement is `make bench`.
"""

from __future__ import annotations

import pytest

from bench.quality import measure

MAX_FALSE_FLAG_RATE = 0.01
MIN_DETECTION = {
    "terminal paste": 0.75,
    "discord paste": 0.9,
    "discord paste, no typing event": 0.9,
}


@pytest.mark.asyncio
async def test_human_paced_answers_are_not_flagged_and_pastes_are(encoder):
    # Every 40th answer through `tacit chat` (the real engine stores each), all through Discord.
    f = await measure(terminal_every=40, encoder=encoder)
    assert f["terminal human-pace answers"] >= 12 and f["discord human-pace answers"] >= 500
    assert f["terminal false-flag rate"] <= MAX_FALSE_FLAG_RATE
    assert f["discord false-flag rate"] <= MAX_FALSE_FLAG_RATE
    for path, bound in MIN_DETECTION.items():
        assert f[f"{path}: detection rate"] >= bound, path
    assert f["boilerplate flags on human answers"] == 0
