// tracker_links.cpp — finding WandB and MLflow links in lines of job output
// (see tracker_links.h).
#include "backend/tracker_links.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/text.h"

namespace mmcfs::backend {
namespace {

// The line without ANSI escape sequences (wandb colours its URLs:
// "\x1b[34m\x1b[4mhttps://...\x1b[0m").
std::string strip_ansi(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '\x1b') {
      out += line[i];
      continue;
    }
    if (i + 1 < line.size() && line[i + 1] == '[') {
      std::size_t j = i + 2;
      while (j < line.size() && !(line[j] >= '@' && line[j] <= '~')) ++j;
      i = j;  // skips the final byte too
    }
  }
  return out;
}

std::string lower(std::string_view s) { return to_lower(s); }

// The non-empty pieces of `s` between `sep`s.
std::vector<std::string> pieces(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool ends_url(char c) {
  auto u = static_cast<unsigned char>(c);
  return u <= ' ' || u == 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == ')' || c == ']' ||
         c == '}' || c == '|' || c == '`' || c == '\\';
}

// Every http(s) URL on the line, trailing punctuation trimmed.
std::vector<std::string> urls_in(std::string_view line) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < line.size()) {
    std::size_t http = line.find("http", pos);
    if (http == std::string_view::npos) break;
    std::string_view rest = line.substr(http);
    std::size_t scheme = rest.rfind("https://", 0) == 0 ? 8 : rest.rfind("http://", 0) == 0 ? 7 : 0;
    if (scheme == 0) {
      pos = http + 4;
      continue;
    }
    std::size_t end = scheme;
    while (end < rest.size() && !ends_url(rest[end])) ++end;
    std::string_view url = rest.substr(0, end);
    while (url.size() > scheme && std::string_view(".,;:!?").find(url.back()) != std::string_view::npos) {
      url.remove_suffix(1);
    }
    if (url.size() > scheme) out.emplace_back(url);
    pos = http + end;
  }
  return out;
}

struct ParsedUrl {
  std::string origin;                 // "https://wandb.ai"
  std::string host;                   // "wandb.ai" (lower case, no port)
  std::vector<std::string> segments;  // the path's non-empty segments
  std::string fragment;               // after '#'
};

ParsedUrl parse_url(const std::string& url) {
  ParsedUrl p;
  std::size_t scheme_end = url.find("://") + 3;
  std::size_t path_start = url.find_first_of("/?#", scheme_end);
  if (path_start == std::string::npos) path_start = url.size();
  p.origin = url.substr(0, path_start);
  std::string authority = url.substr(scheme_end, path_start - scheme_end);
  if (auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  p.host = lower(authority.substr(0, authority.find(':')));
  std::size_t hash = url.find('#', path_start);
  std::size_t path_end = std::min(url.find('?', path_start), hash);
  if (path_end == std::string::npos) path_end = url.size();
  std::string path = url.substr(path_start, path_end - path_start);
  p.segments = pieces(path, '/');
  if (hash != std::string::npos) p.fragment = url.substr(hash + 1);
  return p;
}

bool is_hex_id(std::string_view s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool is_wandb_host(const std::string& host) {
  return host == "wandb.ai" || (host.size() > 9 && host.compare(host.size() - 9, 9, ".wandb.ai") == 0);
}

// WandB: /<entity>/<project>[/runs|sweeps/<id>[/...]].
void classify_wandb(const ParsedUrl& p, bool project_line, std::vector<TrackerLink>& out) {
  const auto& s = p.segments;
  if (s.size() >= 4 && (s[2] == "runs" || s[2] == "sweeps")) {
    std::string base = p.origin + "/" + s[0] + "/" + s[1] + "/" + s[2] + "/" + s[3];
    if (s[2] == "runs") {
      out.push_back({"wandb_run", base});
      out.push_back({"wandb_logs", base + "/logs"});
    } else {
      out.push_back({"wandb_sweep", base});
    }
    return;
  }
  if (s.size() == 2 && (project_line || is_wandb_host(p.host))) {
    if (s[0] == "site" || s[0] == "authorize" || s[0] == "settings") return;  // wandb.ai's own pages
    out.push_back({"wandb_project", p.origin + "/" + s[0] + "/" + s[1]});
  }
}

// MLflow: the UI routes in the fragment: #/experiments/<n>[/runs/<id>].
bool classify_mlflow(const ParsedUrl& p, const std::string& url, std::vector<TrackerLink>& out) {
  std::vector<std::string> f = pieces(p.fragment.substr(0, p.fragment.find('?')), '/');
  if (f.size() < 2 || f[0] != "experiments" || !is_decimal_integer(f[1])) return false;
  std::string base = url.substr(0, url.find('#')) + "#/experiments/" + f[1];
  if (f.size() >= 4 && f[2] == "runs" && !f[3].empty()) {
    out.push_back({"mlflow_run", base + "/runs/" + f[3]});
  } else {
    out.push_back({"mlflow_experiment", base});
  }
  return true;
}

// `mlflow ... run id: <hex>`, `MLflow run_id=<hex>`, `MLFLOW_RUN_ID=<hex>`.
void find_mlflow_run_ids(const std::string& lowered, std::vector<TrackerLink>& out) {
  if (lowered.find("mlflow") == std::string::npos) return;
  static constexpr std::string_view kKeys[] = {"run id", "run_id", "run-id", "runid"};
  for (std::string_view key : kKeys) {
    std::size_t pos = 0;
    while ((pos = lowered.find(key, pos)) != std::string::npos) {
      std::size_t i = pos + key.size();
      pos = i;
      while (i < lowered.size() && (lowered[i] == ' ' || lowered[i] == '\t')) ++i;
      if (i < lowered.size() && (lowered[i] == ':' || lowered[i] == '=')) ++i;
      while (i < lowered.size() && (lowered[i] == ' ' || lowered[i] == '\t' || lowered[i] == '"' || lowered[i] == '\'')) ++i;
      std::string_view candidate = std::string_view(lowered).substr(i, 32);
      bool bounded = i + 32 >= lowered.size() || !std::isalnum(static_cast<unsigned char>(lowered[i + 32]));
      if (is_hex_id(candidate) && bounded) out.push_back({"mlflow_run_id", std::string(candidate)});
    }
  }
}

}  // namespace

std::vector<TrackerLink> find_tracker_links(std::string_view raw) {
  std::vector<TrackerLink> out;
  if (raw.find("http") == std::string_view::npos && raw.find("mlflow") == std::string_view::npos &&
      raw.find("MLflow") == std::string_view::npos && raw.find("MLFLOW") == std::string_view::npos) {
    return out;  // the common case, decided without copying the line
  }
  const std::string line = strip_ansi(raw);
  const std::string lowered = lower(line);
  std::string_view trimmed = std::string_view(lowered).substr(std::min(lowered.find_first_not_of(" \t"), lowered.size()));
  const bool wandb_line = trimmed.rfind("wandb:", 0) == 0;
  const bool project_line = wandb_line && lowered.find("view project") != std::string::npos;
  for (const auto& url : urls_in(line)) {
    ParsedUrl p = parse_url(url);
    if (classify_mlflow(p, url, out)) continue;
    if (is_wandb_host(p.host) || wandb_line) classify_wandb(p, project_line, out);
  }
  find_mlflow_run_ids(lowered, out);
  std::vector<TrackerLink> unique;
  merge_tracker_links(unique, out);
  return unique;
}

bool merge_tracker_links(std::vector<TrackerLink>& links, const std::vector<TrackerLink>& found) {
  bool changed = false;
  for (const auto& link : found) {
    if (std::find(links.begin(), links.end(), link) == links.end()) {
      links.push_back(link);
      changed = true;
    }
  }
  return changed;
}

std::string render_links_text(const std::vector<TrackerLink>& links) {
  std::string out;
  for (const auto& link : links) out += link.kind + " " + link.url + "\n";
  return out;
}

std::string render_links_json(const std::vector<TrackerLink>& links, int indent) {
  // Each kind once, at the place it first appeared, with its latest URL.
  std::vector<std::pair<std::string, std::string>> latest;
  for (const auto& link : links) {
    auto it = std::find_if(latest.begin(), latest.end(), [&](const auto& kv) { return kv.first == link.kind; });
    if (it == latest.end()) {
      latest.emplace_back(link.kind, link.url);
    } else {
      it->second = link.url;
    }
  }
  if (latest.empty()) return "{}";
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<std::size_t>(indent + 1) * 2, ' ');
  std::string out = "{\n";
  for (std::size_t i = 0; i < latest.size(); ++i) {
    out += inner + json_string(latest[i].first) + ": " + json_string(latest[i].second);
    out += i + 1 < latest.size() ? ",\n" : "\n";
  }
  return out + pad + "}";
}

}  // namespace mmcfs::backend
