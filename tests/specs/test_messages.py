"""What `lerobot-run` says about a wrong spec: devices checked at load, `--set` mistakes blamed on
the `--set`, hints that name only jobs and keys that exist, resolved specs with one-line arrays."""

import attrs
import pytest

from lerobot_fn.specs import JOBS, SpecError, dump_spec, load_spec, spec_field, structure
from lerobot_fn.specs.schema import available_devices, device_validator
from lerobot_fn.specs.toml_io import example_override, resolve


def _spec(tmp_path, text):
    path = tmp_path / "job.toml"
    path.write_text(text)
    return path


def _error(path, overrides=()):
    with pytest.raises(SpecError) as info:
        load_spec(path, overrides)
    return info.value.render()


@pytest.mark.parametrize("device", ["tpu", "gpu", "cuda:x", "cuda", "cuda:7", "mps"])
def test_a_device_this_machine_cannot_use_is_a_spec_error_naming_the_key_and_what_exists(tmp_path, device):
    if device in available_devices():
        pytest.skip(f"{device} exists on this machine")  # a GPU machine: "cuda" is fine there
    path = _spec(tmp_path, f'job = "dataset.info"\ndataset = "x"\n[run]\ndevice = "{device}"\n')
    message = _error(path)
    assert f"{path} at run.device:" in message and f"found '{device}'" in message and "cpu" in message
    via_set = _error(_spec(tmp_path, 'job = "dataset.info"\ndataset = "x"\n'), [f"run.device={device}"])
    assert via_set.startswith(f"spec error in --set run.device={device} at run.device:")


def test_the_device_validator_is_reusable_and_can_accept_auto():
    @attrs.frozen
    class Options:
        device: str = spec_field("auto", doc="device", validator=device_validator(allow_auto=True))

    assert Options("auto").device == "auto" and Options("cpu").device == "cpu"
    with pytest.raises(ValueError, match=r"device: expected a torch device \(auto, cpu"):
        Options("tpu")


def test_set_mistakes_name_the_set_argument_not_the_file(tmp_path):
    path = _spec(tmp_path, 'job = "dataset.split"\ndataset = "x"\noutptu_dir = "y"\n')
    message = _error(path, ["run.seed=[1]", "run.sede=2"])
    assert "--set run.seed=[1] at run.seed: expected an integer" in message
    assert "--set run.sede=2 at run.sede: unknown key 'sede'; did you mean 'seed'?" in message
    assert f"{path} at outptu_dir: unknown key" in message  # the file's own mistake stays the file's
    table = _error(path, ['run={seed = "x"}'])
    assert "--set run={seed = \"x\"} at run.seed: expected an integer" in table


def test_hints_name_only_jobs_and_keys_that_exist(tmp_path):
    with pytest.raises(SpecError) as info:
        resolve({}, "x.toml")
    assert info.value.render().split("one of ", 1)[1].split(", ") == sorted(JOBS)
    for name, job in JOBS.items():  # every job's usage example sets a key its schema has, to a valid value
        if (example := example_override(job.schema_class())) is None:
            continue
        path = _spec(tmp_path, f'job = "{name}"\n')
        try:
            load_spec(path, [example])
        except SpecError as exc:  # other required keys may be missing; the example itself must be fine
            key = example.partition("=")[0]
            assert not [i for i in exc.issues if i.path == key], (name, example, exc.render())
    message = _error(_spec(tmp_path, 'job = "dataset.split"\ndataset = "x"\n'), ["seed"])
    assert "--set seed: expected KEY=VALUE with a dotted key (e.g. run.seed=0)" in message


def test_the_resolved_spec_writes_arrays_on_one_line_and_loads_back_equal(tmp_path):
    path = _spec(tmp_path, 'job = "dataset.merge"\ndatasets = ["a", "b"]\n')
    loaded = load_spec(path)
    text = dump_spec(loaded.job, loaded.spec)
    assert f'datasets = ["{tmp_path / "a"}", "{tmp_path / "b"}"]' in text
    again = _spec(tmp_path, text)
    assert load_spec(again).spec == loaded.spec


def test_a_failure_while_checking_a_value_is_reported_as_such():
    def broken(_instance, _attribute, _value):
        raise ModuleNotFoundError("No module named 'an_env_plugin'")

    @attrs.frozen
    class Env:
        type: str = spec_field("pusht", doc="env", validator=broken)

    @attrs.frozen
    class Spec:
        env: Env = spec_field(doc="env table")

    with pytest.raises(SpecError, match=r"at env: could not be checked: ModuleNotFoundError: No module named 'an_env_plugin'"):
        structure({"env": {"type": "x"}}, Spec, "s.toml")
