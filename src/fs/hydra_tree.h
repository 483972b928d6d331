// hydra_tree.h — projects/<p>/hydra/: the project's Hydra config directory
// as read-only files (texts from hydra/conf_render.h):
//
//   hydra/configs                 primary configs, the default one marked `default`
//   hydra/groups/<group>          a group's options, the default choice marked
//                                 (nested groups: hydra/groups/model.encoder)
//   hydra/params                  key  type  default   (the default config)
//   hydra/problems                parse problems, one per line (empty if none)
//   hydra/<config>/params         the same for each primary config
//   hydra/<config>/groups         that config's default group selection
//   hydra/<config>/launch.yaml    a launch template remembered for that config
//
// Everything is rendered from the work tree on disk at each lookup (no
// network, no cache): an edit to conf/ shows at once. A config named like a
// fixed entry (configs, groups, params, problems) has no <config>/ directory.
//
// Thread rules: nodes are safe from any FUSE thread; `config_template` must be too.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "fs/node.h"

namespace mmcfs::fs {

// `conf_dir`: the absolute path of the conf directory; `label`: how problems
// name it (e.g. "conf"); `config_template(config)`: the launch template text.
std::shared_ptr<DirNode> make_hydra_dir(std::string conf_dir, std::string label,
                                        std::function<std::string(const std::string&)> config_template,
                                        WallTime mtime);

}  // namespace mmcfs::fs
