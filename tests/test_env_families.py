"""One short PPO iteration, with real RLlib, on each env family the suite supports: toy text (FrozenLake,
Discrete observations one-hot encoded), classic control with discrete actions (CartPole) and with
continuous ones (Pendulum), Box2D (LunarLander: the `box2d` extra) and MuJoCo (HalfCheetah: the `mujoco`
extra). A Gymnasium, RLlib or simulator upgrade that breaks one family fails here. Each trial is built
the way a sweep builds it (spec -> trial params -> ppo.build_config), in one local Ray of 1 CPU and
no env runners: 14 s in all here (4 s of it starting Ray). Without Ray: an env whose simulator is not
installed is refused before Ray starts, in one line naming the extra that installs it."""

from __future__ import annotations

import math

import pytest

FAMILIES = {
    "toy text": "FrozenLake-v1",
    "classic control, discrete actions": "CartPole-v1",
    "classic control, continuous actions": "Pendulum-v1",
    "Box2D": "LunarLander-v3",
    "MuJoCo": "HalfCheetah-v5",
}
BATCH = 200


@pytest.fixture(scope="module")
def local_ray():
    from ray_processes import own_ray_temp_dir

    with own_ray_temp_dir():
        import ray

        ray.init(num_cpus=1, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
        yield
        ray.shutdown()


@pytest.mark.ray
@pytest.mark.timeout(300)
# RLlib registers its env wrapper with gymnasium at each build; in one process the second build warns.
@pytest.mark.filterwarnings("ignore:.*already in registry")
@pytest.mark.parametrize("env_id", FAMILIES.values(), ids=FAMILIES.keys())
def test_one_ppo_iteration_trains_on_each_env_family(env_id, local_ray):
    from scaling_study.core.spec import parse_spec, trial_params
    from scaling_study.run import algorithm_config, envs

    spec = parse_spec({
        "name": "family", "env": {"id": env_id},
        "search_space": {"num_env_runners": [0]},
        "fixed": {"train_batch_size_per_learner": BATCH, "minibatch_size": 100, "num_epochs": 1,
                  "fcnet_hiddens": [16]},
        "stop": {"training_iteration": 1}, "warmup_iterations": 0,
    })
    (params,) = trial_params(spec, 1)
    envs.register()
    algo = algorithm_config.build_config(params).build_algo()
    try:
        result = algo.train()
    finally:
        algo.stop()
    sampled = result["env_runners"]["num_env_steps_sampled_lifetime"]
    assert sampled >= BATCH, f"{env_id}: sampled {sampled} env steps, asked for a batch of {BATCH}"
    loss = result["learners"]["default_policy"]["total_loss"]
    assert math.isfinite(loss), f"{env_id}: the update's loss is {loss}"


@pytest.mark.parametrize("message, extra", [
    ('MuJoCo is not installed, run `pip install "gymnasium[mujoco]"`', "mujoco"),  # gymnasium 1.2's words
    ('Box2D is not installed, you can install it by run `pip install swig` followed by '
     '`pip install "gymnasium[box2d]"`', "box2d"),
])
def test_an_env_whose_simulator_is_missing_names_the_extra_that_installs_it(message, extra):
    import gymnasium as gym

    from scaling_study.core.errors import SpecError
    from scaling_study.core.spec import parse_spec
    from scaling_study.run.sweep import check_envs

    def not_installed(**kwargs):
        raise gym.error.DependencyNotInstalled(message)

    env_id = f"NotInstalled{extra.title()}-v0"
    gym.register(env_id, entry_point=not_installed)
    try:
        spec = parse_spec({"name": "x", "env": {"id": env_id}, "search_space": {"num_env_runners": [0]}},
                          source="x.yaml")
        with pytest.raises(SpecError) as refused:
            check_envs(spec, 2)
    finally:
        gym.registry.pop(env_id)
    text = str(refused.value)
    assert text.startswith(f"x.yaml: env.id: {env_id} needs the {extra} extra") and "\n" not in text
    assert f"pip install -e '.[{extra}]'" in text
