// node.cpp — default lookups for directory nodes.
#include "fs/node.h"

namespace mmcfs::fs {

Result<std::shared_ptr<Node>> DirNode::child(std::string_view name) const {
  for (auto& [child_name, node] : children()) {
    if (child_name == name) return node;
  }
  return make_error(Errc::kNotFound, std::string(name));
}

Result<std::shared_ptr<Node>> GeneratedDir::child(std::string_view name) const {
  if (find_) return find_(name);
  return DirNode::child(name);
}

}  // namespace mmcfs::fs
