"""The random-policy floor (course_lib.baselines): seeded, in dm_control's [0, 1000], CLI errors."""
import numpy as np
import pytest

from course_lib.baselines import main, random_policy_returns


def test_random_policy_returns_are_seeded_and_in_range():
    a = random_policy_returns("cartpole_balance", episodes=2, seed=3, action_repeat=8)
    b = random_policy_returns("cartpole_balance", episodes=2, seed=3, action_repeat=8)
    c = random_policy_returns("cartpole_balance", episodes=2, seed=4, action_repeat=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # Balance starts upright: random actions keep some reward, far from a learned policy's ~1000.
    assert np.all((a > 50) & (a < 700))


def test_cli_prints_a_row_per_task_and_rejects_bad_input(tmp_path, capsys):
    assert main(["--tasks", "cartpole_balance", "--episodes", "1", "--action-repeat", "8",
                 "--csv", str(tmp_path / "r.csv")]) == 0
    assert "cartpole_balance" in capsys.readouterr().out and (tmp_path / "r.csv").exists()
    with pytest.raises(SystemExit) as exit_:
        main(["--tasks", "cartpole_balanse"])
    assert exit_.value.code == 2 and "Did you mean: cartpole_balance" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["--tasks", "cartpole_balance", "--episodes", "0"])
    assert exit_.value.code == 2
