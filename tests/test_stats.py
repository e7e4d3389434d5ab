import numpy as np
import pytest

from xorgpu.config import Config, RunOptions, SeedRange
from xorgpu.engines.contract import BlockRecord
from xorgpu.experiment import prepare
from xorgpu.stats import (
    LOSS_RELATIVE_ERROR, OUTCOMES, Summary, loss_sketch, outcomes, quantile_of_counts, sketch_quantile, wilson_interval,
)


def test_wilson_interval_hand_computed():
    # 8 of 10: p = 0.8, z = 1.96; centre (0.8 + 0.19207)/1.38415, half-width 0.22655
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(0, 10)[1] == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_quantiles_of_counts_equal_numpy_on_the_expanded_data():
    rng = np.random.default_rng(0)
    for _ in range(50):
        values = np.unique(rng.integers(0, 1000, size=rng.integers(1, 20)))
        counts = rng.integers(1, 6, size=values.size)
        expanded = np.repeat(values, counts)
        for q in (0.0, 0.1, 0.5, 0.9, 1.0):
            assert quantile_of_counts(values, counts, q) == pytest.approx(np.quantile(expanded, q))


def record(ets, lost=(), diverged=(), loss=None, before=None, outputs=None):
    n = len(ets)
    ets = np.array(ets)
    solved = ets >= 0
    at_end = solved.copy()
    at_end[list(lost)] = False
    flags = np.zeros(n, bool)
    flags[list(diverged)] = True
    return BlockRecord(
        outputs=np.array(outputs if outputs is not None else [[0.1, 0.9, 0.9, 0.1]] * n),
        final_loss=np.array(loss if loss is not None else [0.01] * n),
        epochs_to_solve=ets, solved_at_end=at_end, diverged=flags,
        loss_before_end=np.array(before if before is not None else [0.02] * n),
        loss_samples=np.zeros((0, n)),
    )


def test_a_hand_computed_summary():
    rec = record(
        ets=[10, 20, 30, 40, -1, -1, -1],
        lost=[3], diverged=[6],
        loss=[0.01, 0.01, 0.01, 0.2, 0.25, 0.1, np.nan],
        before=[0.02, 0.02, 0.02, 0.2, 0.25, 0.2, np.nan],
        outputs=[[0.1, 0.9, 0.9, 0.1]] * 4 + [[0.5, 0.5, 0.5, 0.5], [0.1, 0.9, 0.4, 0.1], [0, 0, 0, 0]],
    )
    report = Summary.of_block(rec).report(Config())
    assert report["nets"] == 7 and report["solved"] == 4
    assert report["success_rate"] == pytest.approx(4 / 7)
    assert report["epochs_to_solve"] == {"min": 10, "p10": 13.0, "median": 25.0, "p90": 37.0,
                                         "max": 40, "mean": 25.0}
    failures = report["failures"]
    assert failures["unsolved"] == 3 and failures["diverged"] == 1
    assert failures["plateau"] == 1 and failures["still_improving"] == 1  # 0.25 flat; 0.2 -> 0.1
    assert failures["patterns_wrong"] == {"1": 1, "4": 1}  # net 4: an output of 0.5 is wrong
    assert failures["solved_then_lost"] == 1
    assert report["final_loss"]["median"] == pytest.approx(0.01, rel=LOSS_RELATIVE_ERROR)


def test_loss_sketch_quantiles_are_within_one_percent():
    rng = np.random.default_rng(3)
    for losses in (np.exp(rng.normal(-6, 3, 5000)), rng.uniform(1e-9, 1e-8, 777), np.full(10, 0.25)):
        ordered = np.sort(losses)
        sketch = loss_sketch(losses)
        for q in (0.0, 0.1, 0.5, 0.9, 1.0):
            exact = ordered[int(np.floor(q * (len(ordered) - 1)))]
            assert abs(sketch_quantile(sketch, q) - exact) <= LOSS_RELATIVE_ERROR * exact


def test_loss_sketch_keeps_zeros_and_leaves_out_nan():
    sketch = loss_sketch(np.array([0.0, 0.0, 1e-30, 1e-3, 0.5, np.nan, np.inf]))
    assert sum(sketch.values()) == 5
    assert sketch_quantile(sketch, 0.0) == 0.0 and sketch_quantile(sketch, 0.25) == 0.0
    assert sketch_quantile(sketch, 1.0) == pytest.approx(0.5, rel=LOSS_RELATIVE_ERROR)


def test_the_counts_of_a_job_from_an_older_version_are_still_read():
    """Jobs in Redis from before the counters were named as the outcomes they count."""
    older = {"nets": 5, "solved": 2, "unsolved_stuck": 2, "unsolved_improving": 1, "epochs_to_solve:40": 2}
    report = Summary.from_fields(older, samples=0).report(Config())
    assert {name: report["failures"][name] for name in ("plateau", "still_improving", "unsolved")} == \
        {"plateau": 2, "still_improving": 1, "unsolved": 3}


def test_each_net_has_one_outcome():
    rec = record(ets=[10, 20, -1, -1, -1], lost=[1], diverged=[4], loss=[0.01, 0.3, 0.25, 0.1, np.nan],
                 before=[0.02, 0.02, 0.25, 0.2, np.nan])
    assert [OUTCOMES[i] for i in outcomes(rec)] == ["solved", "solved_then_lost", "plateau", "still_improving",
                                                    "diverged"]


def test_exact_final_loss_quantiles_where_the_losses_are_at_hand():
    rec = record(ets=[1, 2, 3, 4], loss=[0.1, 0.2, 0.3, 0.4])
    exact = Summary.of_block(rec).report(Config(), final_losses=rec.final_loss)["final_loss"]
    assert exact == {"p10": pytest.approx(0.13), "median": pytest.approx(0.25), "p90": pytest.approx(0.37),
                     "relative_error": 0.0}
    sketched = Summary.of_block(rec).report(Config())["final_loss"]
    assert sketched["relative_error"] == LOSS_RELATIVE_ERROR and sketched["median"] == pytest.approx(0.2, rel=0.01)


def test_intervals_end_exactly_at_0_and_1():
    assert wilson_interval(0, 300)[0] == 0.0 and wilson_interval(300, 300)[1] == 1.0
    low, high = wilson_interval(1999, 2000)
    assert 0 < low < 1999 / 2000 < high < 1


def test_merged_pieces_equal_the_whole():
    config = Config(epochs=1500, sample_every=500)
    _, whole = prepare(config, RunOptions(backend="numpy", block_nets=600)).train(SeedRange(0, 600))
    merged = Summary()
    for part in SeedRange(0, 600).split(97):
        _, piece = prepare(config, RunOptions(backend="numpy")).train(part)
        merged = merged.merge(piece)
    assert merged.to_fields() == whole.to_fields()
    assert merged.report(config) == whole.report(config)
    assert Summary.from_fields(whole.to_fields(), samples=4).report(config) == whole.report(config)


def test_loss_curves_of_solved_and_unsolved_nets_are_kept_apart_and_merge():
    """Each sampled epoch's quantiles, of the nets that solved and of those that did not, are
    within 1% of numpy's on those nets' losses, whether the nets come in one block or two."""
    rng = np.random.default_rng(11)
    n = 400
    ets = np.where(rng.uniform(size=n) < 0.7, rng.integers(0, 900, n), -1)
    samples = np.exp(rng.normal(-4, 2, (3, n)))  # (S, n) losses at the sampled epochs
    rec = record(ets=ets.tolist())
    rec.loss_samples = samples
    config = Config(epochs=1000, sample_every=500)  # sampled at epochs 0, 500, 1000
    whole = Summary.of_block(rec).report(config)["loss_curve"]
    halves = [record(ets=part.tolist()) for part in (ets[:150], ets[150:])]
    halves[0].loss_samples, halves[1].loss_samples = samples[:, :150], samples[:, 150:]
    merged = Summary.of_block(halves[0]).merge(Summary.of_block(halves[1])).report(config)["loss_curve"]
    assert merged == whole and [row["epoch"] for row in whole] == [0, 500, 1000]
    for row, losses in zip(whole, samples):
        for group, mask in (("solved", ets >= 0), ("unsolved", ets < 0)):
            ordered = np.sort(losses[mask])
            for name, q in (("p10", 0.1), ("median", 0.5), ("p90", 0.9)):
                exact = ordered[int(np.floor(q * (len(ordered) - 1)))]
                assert abs(row[group][name] - exact) <= LOSS_RELATIVE_ERROR * exact


def test_summing_flat_fields_is_merging_summaries():
    """What Redis does as chunks land (HINCRBY of each field) equals Summary.merge."""
    config = Config(epochs=600, lr=2.0, sample_every=200)
    parts = [prepare(config, RunOptions(engine="array")).train(SeedRange(a, b))[1]
             for a, b in ((0, 70), (70, 71), (71, 300))]
    summed: dict[str, int] = {}
    for part in parts:
        for key, count in part.to_fields().items():
            summed[key] = summed.get(key, 0) + count
    merged = parts[0].merge(parts[1]).merge(parts[2])
    assert Summary.from_fields(summed, samples=4).report(config) == merged.report(config)
    assert Summary.from_fields(summed, samples=4).report(config) == \
        prepare(config, RunOptions(engine="array")).train(SeedRange(0, 300))[1].report(config)
