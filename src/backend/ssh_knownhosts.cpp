// ssh_knownhosts.cpp — known_hosts loading and host key checks (see
// ssh_knownhosts.h).
#include "backend/ssh_knownhosts.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "backend/ssh_session.h"
#include "common/log.h"

namespace mmcfs::backend {
namespace {

struct KeyAlgorithm {
  int hostkey_type;      // LIBSSH2_HOSTKEY_TYPE_*
  int knownhost_type;    // LIBSSH2_KNOWNHOST_KEY_*
  const char* method;    // libssh2 / SSH protocol name
  const char* label;     // as ssh-keygen -l prints it
  const char* keyscan;   // ssh-keyscan -t argument
};

// In the order we prefer them when known_hosts has several.
constexpr KeyAlgorithm kAlgorithms[] = {
    {LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519, "ssh-ed25519", "ED25519", "ed25519"},
    {LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256, "ecdsa-sha2-nistp256", "ECDSA", "ecdsa"},
    {LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384, "ecdsa-sha2-nistp384", "ECDSA", "ecdsa"},
    {LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521, "ecdsa-sha2-nistp521", "ECDSA", "ecdsa"},
    {LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA, "ssh-rsa", "RSA", "rsa"},
    {LIBSSH2_HOSTKEY_TYPE_DSS, LIBSSH2_KNOWNHOST_KEY_SSHDSS, "ssh-dss", "DSA", "dsa"},
};

const KeyAlgorithm* algorithm_for(int hostkey_type) {
  for (const KeyAlgorithm& a : kAlgorithms) {
    if (a.hostkey_type == hostkey_type) return &a;
  }
  return nullptr;
}

std::string keyscan_command(const SshOptions& o, const char* type) {
  std::string cmd = "ssh-keyscan";
  if (o.port != 22) cmd += " -p " + std::to_string(o.port);
  if (type != nullptr) cmd += std::string(" -t ") + type;
  return cmd + " " + o.hostname + " >> " + o.known_hosts;
}

}  // namespace

std::string base64_encode(const unsigned char* data, std::size_t size, bool pad) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (std::size_t i = 0; i < size; i += 3) {
    unsigned v = static_cast<unsigned>(data[i]) << 16;
    if (i + 1 < size) v |= static_cast<unsigned>(data[i + 1]) << 8;
    if (i + 2 < size) v |= data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    if (i + 1 < size) out += kAlphabet[(v >> 6) & 63]; else if (pad) out += '=';
    if (i + 2 < size) out += kAlphabet[v & 63]; else if (pad) out += '=';
  }
  return out;
}

std::string sha256_fingerprint(const unsigned char* digest32) {
  return "SHA256:" + base64_encode(digest32, 32, /*pad=*/false);
}

KnownHosts::KnownHosts(LIBSSH2_KNOWNHOSTS* hosts, const SshOptions& options)
    : hosts_(hosts), options_(options) {}

KnownHosts::~KnownHosts() { libssh2_knownhost_free(hosts_); }

std::string KnownHosts::lookup_name() const {
  if (options_.port == 22) return options_.hostname;
  return "[" + options_.hostname + "]:" + std::to_string(options_.port);
}

Result<std::unique_ptr<KnownHosts>> KnownHosts::load(LIBSSH2_SESSION* session,
                                                     const SshOptions& options) {
  const std::string& path = options.known_hosts;
  if (path.empty()) {
    return ssh_error(options, Errc::kHostKey,
                     "no known_hosts file is configured, so the server cannot be verified; "
                     "set known_hosts in clusters.yaml");
  }
  if (access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
    return ssh_error(options, Errc::kHostKey,
                     "known_hosts file " + path + " does not exist, so the host key of " +
                         options.hostname + " cannot be verified; refusing to connect. "
                         "Create it with `" + keyscan_command(options, nullptr) +
                         "`, then check `ssh-keygen -lf " + path +
                         "` against the fingerprints the cluster's admins publish");
  }
  std::ifstream in(path);
  if (!in) {
    return ssh_error(options, Errc::kHostKey,
                     "cannot read known_hosts file " + path + ": " + std::strerror(errno));
  }

  LIBSSH2_KNOWNHOSTS* raw = libssh2_knownhost_init(session);
  if (raw == nullptr) return ssh_error(options, Errc::kInternal, "libssh2_knownhost_init failed");
  std::unique_ptr<KnownHosts> known(new KnownHosts(raw, options));

  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    if (line[start] == '@') {
      // "@revoked <hosts> <type> <key>": remember the key whatever the hosts.
      std::istringstream fields(line.substr(start));
      std::string marker, hosts, type, key;
      fields >> marker >> hosts >> type >> key;
      if (marker == "@revoked" && !key.empty()) known->revoked_keys_.push_back(key);
      continue;  // @cert-authority: certificates are not supported
    }
    if (libssh2_knownhost_readline(raw, line.c_str() + start, line.size() - start,
                                   LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0) {
      log::debug("ssh {}: {}:{}: known_hosts line not understood, skipped",
                 options.cluster_name, path, line_no);
    }
  }
  return known;
}

std::string KnownHosts::known_key_algorithms() const {
  // A host entry of type T with a different key makes checkp report
  // MISMATCH: ask with a key that can never match to learn which types exist
  // (this also sees hashed entries, which cannot be read back).
  std::string methods;
  for (const KeyAlgorithm& a : kAlgorithms) {
    int rc = libssh2_knownhost_checkp(
        hosts_, options_.hostname.c_str(), options_.port, "-", 0,
        LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_BASE64 | a.knownhost_type, nullptr);
    if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
      if (!methods.empty()) methods += ',';
      methods += a.method;
    }
  }
  return methods;
}

Status KnownHosts::verify(LIBSSH2_SESSION* session) const {
  std::size_t key_len = 0;
  int key_type = LIBSSH2_HOSTKEY_TYPE_UNKNOWN;
  const char* key = libssh2_session_hostkey(session, &key_len, &key_type);
  const char* digest = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256);
  if (key == nullptr || digest == nullptr) {
    return ssh_error(options_, Errc::kHostKey, "the server sent no usable host key");
  }
  const KeyAlgorithm* algorithm = algorithm_for(key_type);
  const std::string offered =
      std::string(algorithm != nullptr ? algorithm->label : "unknown-type") + " key " +
      sha256_fingerprint(reinterpret_cast<const unsigned char*>(digest));
  const std::string name = lookup_name();
  const std::string& path = options_.known_hosts;

  const std::string key_b64 =
      base64_encode(reinterpret_cast<const unsigned char*>(key), key_len, /*pad=*/true);
  for (const std::string& revoked : revoked_keys_) {
    if (revoked == key_b64) {
      return ssh_error(options_, Errc::kHostKey,
                       "host key for " + name + " (" + offered + ") is marked @revoked in " +
                           path + "; refusing to connect");
    }
  }

  const int type_bits = algorithm != nullptr ? algorithm->knownhost_type : LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
  const int mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | type_bits;
  int rc = libssh2_knownhost_checkp(hosts_, options_.hostname.c_str(), options_.port, key,
                                    key_len, mask, nullptr);
  if (rc == LIBSSH2_KNOWNHOST_CHECK_MATCH) return Status::Ok();

  if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH && options_.port != 22) {
    // checkp also consults plain "host" entries; a different key there
    // belongs to the port-22 service, not to this one: "unknown", not "changed".
    int exact = libssh2_knownhost_check(hosts_, name.c_str(), key, key_len, mask, nullptr);
    if (exact == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND) rc = LIBSSH2_KNOWNHOST_CHECK_NOTFOUND;
  }
  if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
    return ssh_error(options_, Errc::kHostKey,
                     "host key for " + name + " has CHANGED (offered " + offered +
                         "); this may be a man-in-the-middle attack, so mmcfs refuses to "
                         "connect. If the server was rebuilt and its admins confirm the new "
                         "fingerprint, remove the old line from " + path + " (ssh-keygen -R '" +
                         name + "' -f " + path + ") and add the new key (" +
                         keyscan_command(options_, algorithm != nullptr ? algorithm->keyscan
                                                                        : nullptr) + ")");
  }
  if (rc == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND) {
    return ssh_error(options_, Errc::kHostKey,
                     "host key for " + name + " is not in " + path + "; refusing to connect. "
                         "The server offered " + offered + ". If the cluster's admins confirm "
                         "that fingerprint, add the key with: " +
                         keyscan_command(options_, algorithm != nullptr ? algorithm->keyscan
                                                                        : nullptr));
  }
  char* msg = nullptr;
  libssh2_session_last_error(session, &msg, nullptr, 0);
  return ssh_error(options_, Errc::kHostKey,
                   "could not check the host key of " + name + " against " + path + ": " +
                       (msg != nullptr ? msg : "unknown libssh2 error"));
}

}  // namespace mmcfs::backend
