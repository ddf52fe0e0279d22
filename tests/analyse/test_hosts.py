"""Same machine id, different hosts: told apart by speed, never compared as a regression."""

from __future__ import annotations

import pytest
from synthetic_runs import FAST, run, slower

from labs.analyse import compare, hosts
from labs.core import machine
from labs.core.errors import UsageError


def test_fingerprints_2_5x_apart_are_two_hosts_of_one_machine_id():
    yesterday, today, again = run("d1"), run("d2", speed=2.5), run("d3", speed=1.03, seed=1)
    found = hosts.assign([yesterday, today, again])
    assert found[yesterday] == found[again] != found[today]
    assert [found[r].speed_class for r in (yesterday, today, again)] == [1, 2, 1]


def test_a_session_is_one_host_whatever_one_busy_run_read():
    """Six runtimes measured by one nox session: the last run's fingerprint read 13% slower (a busy
    minute), which made it "another host" and dropped the five others from the report. A session is
    judged once, from the median of all its readings."""
    tags = ("3.12", "3.13", "3.13t", "3.13t-gil", "3.14", "3.15")
    session = [
        run(f"2026-11-30T01-0{i}-00Z", tag=tag, session="nox-1", speed=1.13 if tag == "3.15" else 1.0)
        for i, tag in enumerate(tags)
    ]
    found = hosts.assign(session)
    assert len({found[r] for r in session}) == 1
    assert hosts.newest_host(session, found) == found[session[0]]


def test_runs_before_session_ids_are_grouped_as_nox_ran_them():
    """Back to back on different runtimes: one session; a gap of an hour, or the same runtime again,
    starts another."""
    first = run("2026-11-30T01-00-00Z", tag="3.12", finished="2026-11-30T01:04:30+00:00")
    second = run("2026-11-30T01-05-00Z", tag="3.13", finished="2026-11-30T01:09:00+00:00")
    again = run("2026-11-30T01-10-00Z", tag="3.13", finished="2026-11-30T01:14:00+00:00")
    later = run("2026-11-30T03-00-00Z", tag="3.14")
    assert [[r.started for r in s] for s in hosts.sessions([later, again, second, first])] == [
        [first.started, second.started],
        [again.started],
        [later.started],
    ]


def test_a_host_2_5x_slower_is_another_host_even_in_a_session_of_many_readings():
    today = [
        run(f"2026-11-30T01-0{i}-00Z", tag=t, session="b", speed=2.5) for i, t in enumerate(("3.12", "3.13"))
    ]
    yesterday = [run(f"2026-11-29T01-0{i}-00Z", tag=t, session="a") for i, t in enumerate(("3.12", "3.13"))]
    found = hosts.assign([*yesterday, *today])
    assert found[yesterday[0]] == found[yesterday[1]] != found[today[0]] == found[today[1]]
    assert [found[r].speed_class for r in (yesterday[0], today[0])] == [1, 2]


def test_compare_across_hosts_is_refused_in_one_line():
    with pytest.raises(
        UsageError, match=r"ran on another host .* fingerprint is 2\.50x the other's.*--normalize"
    ):
        hosts.check([run("d1"), run("d2", speed=2.5)])


def test_normalized_compare_divides_by_the_speed_ratio_and_flags_nothing():
    chosen, notes = hosts.check([run("d1"), run("d2", speed=2.5, seed=2)], normalize=True)
    assert chosen[1].tag == "3.13(normalized)" and "divided by 2.500" in notes[0]
    _, compared, regressions = compare.render(chosen)
    assert compared == 3 and regressions == 0
    raw = compare.render([run("d1"), run("d2", speed=2.5, seed=2)])  # what refusing protects from
    assert raw[2] == 3


def test_runs_without_fingerprints_compare_within_one_kernel_and_say_so():
    chosen, notes = hosts.check([run("d1", fingerprint=None), run("d2", fingerprint=None)])
    assert len(chosen) == 2 and notes == []
    mixed, notes = hosts.check([run("d1", fingerprint=None), run("d2")])
    assert len(mixed) == 2 and "speed unverified" in notes[0]
    with pytest.raises(UsageError, match="its host facts differ"):
        hosts.check(
            [run("d1", fingerprint=None), run("d2", fingerprint=None, kernel="Linux 6.18.44-fc-v782")]
        )


def test_a_fingerprint_compares_only_with_one_taken_by_the_same_interpreter():
    other_python = {**FAST, "python": "3.14.0 default GCC 14"}
    assert machine.speed_ratio(FAST, other_python) is None
    assert machine.speed_ratio(FAST, slower(FAST, 2.5)) == pytest.approx(2.5)


def test_fingerprints_taken_by_two_interpreters_do_not_split_a_host():
    """Found in review: a plain `labs bench` fingerprints with the interpreter under test, so a 3.13
    and a 3.13t run of one machine cannot be compared by speed; they must not become two hosts."""
    other_python = {**FAST, "python": "3.13.5 free-threaded GCC 12.2.0"}
    chosen, notes = hosts.check([run("d1"), run("d2", fingerprint=other_python)])
    assert len(chosen) == 2 and "speed unverified" in notes[0]


def test_one_host_at_two_speeds_is_refused_by_compare_not_flagged():
    """Two sessions of one host class whose fingerprints are 20% apart: compare's 5% threshold would
    flag the host's speed that day as a regression, so the pair is refused unless normalized."""
    monday, tuesday = (
        run("2026-11-30T01-00-00Z", session="a"),
        run("2026-12-01T01-00-00Z", session="b", speed=1.2),
    )
    found = hosts.assign([monday, tuesday])
    assert found[monday] == found[tuesday]  # one host: within the class margin
    with pytest.raises(UsageError, match="at another speed on the same host"):
        hosts.check([monday, tuesday])
    chosen, notes = hosts.check([monday, tuesday], normalize=True)
    assert "NORMALIZED" in notes[0] and chosen[1].tag.endswith("(normalized)")


def test_a_fingerprint_of_zeros_or_words_is_left_out_not_a_crash():
    broken = run("2026-11-30T01-00-00Z", session="a")
    broken.record["fingerprint"] = {"start": {"python": "x", "seconds": {"float": 0, "integer": "fast"}}}
    found = hosts.assign([broken, run("2026-11-30T02-00-00Z", session="b")])
    assert found[broken].speed_class == 0  # no usable reading: speed unverified
