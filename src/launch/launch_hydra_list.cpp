// launch_hydra_list.cpp — YAML lists as Hydra list text and back (see
// launch_hydra_list.h).
//
// Thread rules: pure functions over their arguments.
#include "launch/launch_hydra_list.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include "hydra/override_writer.h"

namespace mmcfs::launch::detail {
namespace {

bool is_bare_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '+' ||
         c == '-';
}

bool is_bare_word(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_bare_char);
}

bool is_plain_yaml_scalar(const YAML::Node& node) { return node.Tag() == "?"; }

void append_item(const YAML::Node& item, std::string& out, std::vector<ListProblem>& problems) {
  switch (item.Type()) {
    case YAML::NodeType::Sequence:
      out += hydra_list_text(item, problems);
      return;
    case YAML::NodeType::Scalar:
      if (is_plain_yaml_scalar(item) && is_bare_word(item.Scalar())) {
        out += item.Scalar();
      } else {
        out += hydra::quote_string(item.Scalar());
      }
      return;
    case YAML::NodeType::Map:
      problems.push_back(ListProblem{item, "a list under params holds a map",
                                     "write lists of plain values here; put Hydra dictionaries in "
                                     "overrides, e.g. `overrides: [\"key={a:1}\"]`"});
      return;
    default:
      out += "null";
  }
}

// One list item read back from Hydra text.
struct Item {
  enum class Kind { kBare, kQuoted, kNull, kList } kind = Kind::kBare;
  std::string text;
  std::vector<Item> items;
};

// Reads the subset of Hydra's grammar that hydra_list_text writes.
class ListReader {
 public:
  explicit ListReader(std::string_view text) : text_(text) {}

  std::optional<Item> read_all() {
    std::optional<Item> list = read_list();
    if (!list || pos_ != text_.size()) return std::nullopt;
    return list;
  }

 private:
  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

  std::optional<Item> read_list() {
    if (!at('[')) return std::nullopt;
    ++pos_;
    Item list{Item::Kind::kList, {}, {}};
    if (at(']')) {
      ++pos_;
      return list;
    }
    for (;;) {
      std::optional<Item> item = read_item();
      if (!item) return std::nullopt;
      list.items.push_back(std::move(*item));
      if (at(']')) {
        ++pos_;
        return list;
      }
      if (!at(',')) return std::nullopt;
      ++pos_;
    }
  }

  std::optional<Item> read_item() {
    if (at('[')) return read_list();
    if (at('\'')) return read_quoted();
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_bare_char(text_[pos_])) ++pos_;
    std::string word(text_.substr(start, pos_ - start));
    if (word.empty()) return std::nullopt;
    if (word == "null") return Item{Item::Kind::kNull, {}, {}};
    return Item{Item::Kind::kBare, std::move(word), {}};
  }

  std::optional<Item> read_quoted() {
    ++pos_;  // the opening quote
    Item item{Item::Kind::kQuoted, {}, {}};
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\'') {
        ++pos_;
        return item;
      }
      if (c != '\\') {
        item.text += c;
        ++pos_;
        continue;
      }
      std::size_t run = 0;
      while (pos_ + run < text_.size() && text_[pos_ + run] == '\\') ++run;
      pos_ += run;
      if (at('$') && pos_ + 1 < text_.size() && text_[pos_ + 1] == '{') {  // \${: a literal ${
        item.text.append(run / 2, '\\');
        continue;
      }
      if (!at('\'')) {
        item.text.append(run, '\\');
        continue;
      }
      item.text.append(run / 2, '\\');
      if (run % 2 == 1) {  // an escaped quote
        item.text += '\'';
        ++pos_;
      }
    }
    return std::nullopt;  // no closing quote
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

void emit_item(YAML::Emitter& out, const Item& item) {
  switch (item.kind) {
    case Item::Kind::kList:
      out << YAML::Flow << YAML::BeginSeq;
      for (const Item& inner : item.items) emit_item(out, inner);
      out << YAML::EndSeq;
      return;
    case Item::Kind::kNull:
      out << YAML::Null;
      return;
    case Item::Kind::kQuoted:
      out << YAML::DoubleQuoted << item.text;
      return;
    case Item::Kind::kBare:
      out << item.text;
      return;
  }
}

}  // namespace

std::string hydra_list_text(const YAML::Node& sequence, std::vector<ListProblem>& problems) {
  std::string out = "[";
  bool first = true;
  for (const YAML::Node& item : sequence) {
    if (!first) out += ',';
    first = false;
    append_item(item, out, problems);
  }
  return out + "]";
}

bool is_hydra_list_value(std::string_view value, bool quoted, bool is_null) {
  return !quoted && !is_null && value.starts_with('[');
}

bool emit_hydra_list(YAML::Emitter& out, std::string_view text) {
  std::optional<Item> list = ListReader(text).read_all();
  if (!list) return false;
  emit_item(out, *list);
  return true;
}

}  // namespace mmcfs::launch::detail
