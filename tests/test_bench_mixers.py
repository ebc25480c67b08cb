"""``nprates bench --only mixers``: every family timed at every length, in the report."""

from nprates.bench import format_report, mixers


def test_mixer_bench_times_every_family_and_formats_a_row_each():
    r = mixers.run("cpu", lengths=(8, 16), batch=2, width=8, d_state=4, n_heads=2, repeats=1)
    assert [row["family"] for row in r["rows"]] == list(mixers.FAMILIES) * 2
    assert all(row["seconds"] > 0 for row in r["rows"])
    layer = mixers.make_layer("lru", 8, 4, 2)
    assert r["params"]["lru"] == sum(p.numel() for p in layer.parameters()) == 4 * 3 + 2 * 4 * 8 * 2 + 8
    report = {"machine": {"processor": "cpu", "cpu_count": 2, "torch": "2", "torch_threads": 1},
              "device": "cpu", "quick": True, "seconds": 1.0, "mixers": r}
    text = format_report(report)
    assert "6. mixer families, one layer forward+backward, batch 2, width 8" in text
    for family in mixers.FAMILIES:
        line = next(li for li in text.splitlines() if li.split()[:1] == [family])
        assert len(line.split()) == 5   # family, params, two lengths, exponent
