#!/usr/bin/env python3
"""train.py — the example project's "training" script.

It trains nothing. It shows what a job received and lets tests choose how it
ends:

  MMCFS_ARGV=<JSON list>     sys.argv[1:], exactly as the process got them
  the composed config, as YAML (and once more as one JSON line, MMCFS_CONFIG=)
  wandb: ... View run at https://wandb.ai/mmcfs/example/runs/<id>
  ENV <NAME>=<JSON string>   for MMCFS_*, EXAMPLE_*, CUDA_VISIBLE_DEVICES,
                             SLURM_JOB_ID and the multi-node variables
  then sleeps train.sleep_seconds and exits with the config's exit_code.

Configuration: with Hydra installed (pip install hydra-core) it is a normal
Hydra app over conf/. Without it, a small fallback does what this project
needs of Hydra, using only PyYAML:
  * --config-name NAME (or --config-name=NAME, -cn NAME) picks conf/NAME.yaml
    (default: config);
  * its `defaults:` list loads one file per group (`- data: small` loads
    conf/data/small.yaml under the key `data`), in order, with the config's
    own keys where `_self_` stands (last if it is not listed);
  * overrides: `group=option` picks another group file; `a.b=value` sets an
    existing key (an unknown key is an error, as in Hydra); `+a.b=value` adds
    one; `++a.b=value` adds or sets; `~a.b` deletes. Values are read as
    Hydra reads them: quoted strings ('...' or "..." with Hydra's backslash
    rules), otherwise YAML (numbers such as 1e-5 included). Sweeps,
    interpolations and functions are not supported.
"""

import hashlib
import json
import os
import re
import sys
import time

import yaml

CONF_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conf")
PRINTED_ENV = ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_ID", "SLURM_JOB_NODELIST", "MASTER_ADDR",
               "MASTER_PORT", "WORLD_SIZE", "NODE_RANK")


def report(cfg):
    """Prints what the job received; returns the exit code to end with."""
    try:
        sys.stdout.reconfigure(encoding="utf-8", errors="surrogateescape")
    except (AttributeError, ValueError):
        pass
    print("MMCFS_ARGV=" + json.dumps(sys.argv[1:]), flush=True)
    print("Composed config:")
    print(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True, default_flow_style=False), end="")
    print("MMCFS_CONFIG=" + json.dumps(cfg, default=str))
    run_seed = os.environ.get("MMCFS_JOB_ID", "") + str(time.time())
    run_id = hashlib.sha1(run_seed.encode()).hexdigest()[:8]
    print("wandb: \U0001F680 View run at https://wandb.ai/mmcfs/example/runs/" + run_id)
    for name in sorted(os.environ):
        if name.startswith(("MMCFS_", "EXAMPLE_")) or name in PRINTED_ENV:
            print("ENV " + name + "=" + json.dumps(os.environ[name]))
    if "CUDA_VISIBLE_DEVICES" not in os.environ:
        print("ENV CUDA_VISIBLE_DEVICES is not set")
    sys.stdout.flush()
    train = cfg.get("train") or {}
    sleep_seconds = float(train.get("sleep_seconds") or 0)
    if sleep_seconds > 0:
        print("sleeping %g s" % sleep_seconds, flush=True)
        time.sleep(sleep_seconds)
    code = int(cfg.get("exit_code") or 0)
    print("exiting with %d" % code, flush=True)
    return code


# ---- The fallback: a little of Hydra, with PyYAML -----------------------------

class _Loader(yaml.SafeLoader):
    """YAML 1.2-style floats (1e-5 is a float, as OmegaConf reads it)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                    |\.[0-9_]+(?:[eE][-+][0-9]+)?
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."))


def _load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_Loader) or {}


def _unquote(text):
    """A Hydra quoted value: \\' (or \\") is the quote; backslashes before a
    quote come doubled. Then, as OmegaConf resolves it: \\${ is a literal ${
    (backslashes before it come doubled too)."""
    return _unescape_interpolations(_unquote_hydra(text))


def _unescape_interpolations(text):
    """OmegaConf's escaped interpolation: a run of n backslashes before ${
    stands for n//2 backslashes (and, when n is odd, a literal ${)."""
    return re.sub(r"(\\+)(?=\$\{)", lambda m: "\\" * (len(m.group(1)) // 2), text)


def _unquote_hydra(text):
    quote, body = text[0], text[1:-1]
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\":
            j = i
            while j < len(body) and body[j] == "\\":
                j += 1
            run = j - i
            if j < len(body) and body[j] == quote:      # escaped quote after run//2 backslashes
                out.append("\\" * (run // 2) + quote)
                i = j + 1
            elif j == len(body):                         # before the closing quote
                out.append("\\" * (run // 2))
                i = j
            else:
                out.append("\\" * run)
                i = j
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def _value(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return _unquote(text)
    if text == "":
        return ""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        return text


def _merge(base, other):
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def compose(config_name, overrides):
    primary = _load(os.path.join(CONF_DIR, config_name + ".yaml"))
    defaults = primary.pop("defaults", []) or []
    groups = {}
    order = []
    for entry in defaults:
        if entry == "_self_":
            order.append("_self_")
        elif isinstance(entry, dict):
            (group, option), = entry.items()
            groups[group] = option
            order.append(group)
    if "_self_" not in order:
        order.append("_self_")
    rest = []
    for override in overrides:
        key, sep, value = override.partition("=")
        if sep and key in groups:
            groups[key] = _value(value)
        else:
            rest.append(override)
    cfg = {}
    for item in order:
        if item == "_self_":
            _merge(cfg, primary)
        else:
            cfg[item] = _merge(cfg.get(item, {}), _load(os.path.join(CONF_DIR, item, str(groups[item]) + ".yaml")))
    for override in rest:
        apply_override(cfg, override)
    return cfg


def apply_override(cfg, override):
    if override.startswith("~"):
        path = override[1:].partition("=")[0].split(".")
        node = cfg
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]
        return
    mode = "set"
    if override.startswith("++"):
        mode, override = "force", override[2:]
    elif override.startswith("+"):
        mode, override = "add", override[1:]
    key, sep, value = override.partition("=")
    if not sep:
        sys.exit("train.py: override %r is not key=value" % override)
    path = key.split(".")
    node = cfg
    for part in path[:-1]:
        if part not in node:
            if mode == "set":
                sys.exit("train.py: Could not override '%s'. Key '%s' is not in the config; "
                         "to add it use +%s=..." % (key, part, key))
            node[part] = {}
        node = node[part]
    if mode == "set" and path[-1] not in node:
        sys.exit("train.py: Could not override '%s'. Key is not in the config; to add it use +%s=..."
                 % (key, key))
    if mode == "add" and path[-1] in node:
        sys.exit("train.py: Could not append to config. An item is already at '%s'" % key)
    node[path[-1]] = _value(value)


def fallback_main():
    args = sys.argv[1:]
    config_name = "config"
    overrides = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("--config-name", "-cn") and i + 1 < len(args):
            config_name = args[i + 1]
            i += 2
            continue
        if arg.startswith("--config-name="):
            config_name = arg.split("=", 1)[1]
        else:
            overrides.append(arg)
        i += 1
    return report(compose(config_name, overrides))


def main():
    try:
        import hydra  # noqa: F401  (optional)
        from omegaconf import OmegaConf
    except ImportError:
        return fallback_main()

    @hydra.main(version_base=None, config_path="conf", config_name="config")
    def hydra_main(cfg):
        sys.exit(report(OmegaConf.to_container(cfg, resolve=True)))

    hydra_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
