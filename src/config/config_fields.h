// config_fields.h — reading and validating one `key: value` of clusters.yaml
// (internal to src/config).
//
// FieldReader turns a value into the type its key wants (string, list,
// bool, bounded integer, local path) and applies the rules of the fields
// that have their own (name, host, ssh_key_path, workspace). On a wrong
// value it adds a problem, pointing at the value or, if none is written, at
// the key, and returns nullopt (or leaves the target unchanged); it never
// throws for bad input. Which keys are valid where is config_schema.h's
// business; the structure of the file is the loader's (cluster_config.cpp).
//
// Thread rules: a FieldReader belongs to the one loader call that made it;
// the SourceText and ProblemList it refers to must outlive it.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/cluster_config.h"
#include "config/yaml_diagnostics.h"

namespace mmcfs::config::detail {

struct IntRange {
  long long min;
  long long max;
  std::string describe() const;  // "a whole number from 1 to 300"
};

// The allowed range of each timing key.
IntRange timing_range(std::string_view key);

// Seconds for the timing keys; from `settings:`, overridden per cluster.
struct Timing {
  int gpu_cache_seconds = 60;
  int job_poll_seconds = 30;
  int connect_timeout_seconds = 10;
  int command_timeout_seconds = 30;
  int max_sweep_runs = 256;  // not seconds: the most runs one sweep may submit

  void set(std::string_view key, int seconds);
};

// One `key: value` pair being read, and whose it is for messages.
struct Field {
  const YAML::Node& key;
  const YAML::Node& value;
  std::string name;   // the key's text
  std::string owner;  // "cluster 'babel'", "settings", "the top level"
};

class FieldReader {
 public:
  FieldReader(const SourceText& source, ProblemList& problems)
      : source_(source), problems_(problems) {}

  // Where to point for a problem with a value: at the key if nothing is written.
  Position value_position(const Field& field) const;

  // -- the fields with their own rules --------------------------------------

  // Sets c.name; returns where the name is if it is a valid name.
  std::optional<Position> read_name(const Field& field, ClusterConfig& c);
  // Sets c.user and c.hostname from "user@hostname".
  void read_host(const Field& field, ClusterConfig& c);
  // Sets c.ssh_key_path ("" leaves it empty: ssh-agent); the file must exist.
  void read_key_path(const Field& field, ClusterConfig& c);
  // Sets c.workspace; absolute or starting with ~/ (the remote home).
  void read_workspace(const Field& field, ClusterConfig& c);
  // One of the timing keys, within timing_range(), into `timing`.
  void read_timing(const Field& field, Timing& timing);

  // -- typed readers: report and return nullopt on a wrong type -------------

  // A local file path, "~/" expanded; must then be absolute ("" allowed).
  std::optional<std::string> read_local_path(const Field& field);
  std::optional<std::string> read_string(const Field& field);
  std::optional<std::string> read_nonempty_string(const Field& field);
  // Empty for no value; wrong items are reported and left out.
  std::vector<std::string> read_string_list(const Field& field);
  std::optional<bool> read_bool(const Field& field);
  std::optional<int> read_integer(const Field& field, const IntRange& range);

 private:
  void add(Position where, std::string what, std::string fix);

  const SourceText& source_;
  ProblemList& problems_;
};

}  // namespace mmcfs::config::detail
