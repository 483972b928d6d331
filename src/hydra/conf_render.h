// conf_render.h — a parsed conf directory as the text of the read-only files
// under projects/<p>/hydra/ (fs/hydra_tree.h). Made to be read, grepped and
// diffed: one item per line, columns aligned with spaces, no trailing space.
//
//   configs           one primary config per line; the default one followed by `default`
//   groups/<group>    one option per line; the default config's choice followed by `default`
//                     (a nested group model/encoder is the file `model.encoder`)
//   params            `key  type  default` for the default config, a `#` line first
//                     naming the config and its group selection
//   <config>/params   the same for another primary config
//   <config>/groups   `group  option` per line: that config's default selection
//   problems          one "file:line:column: what — fix" per line; empty when all is well
//
// Thread rules: pure functions.
#pragma once

#include <string>

#include "hydra/conf_tree.h"

namespace mmcfs::hydra {

std::string render_configs(const ConfTree& tree);
// `group` is a path (model/encoder); "" if there is no such group.
std::string render_group(const ConfTree& tree, const std::string& group);
std::string render_params(const Composition& composition);
std::string render_selection(const Composition& composition);
std::string render_problems(const ConfTree& tree);

// A group path as a file name: model/encoder -> model.encoder.
std::string group_file_name(const std::string& group);

}  // namespace mmcfs::hydra
