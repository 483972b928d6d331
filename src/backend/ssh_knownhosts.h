// ssh_knownhosts.h — host key verification against an OpenSSH known_hosts
// file (SshSession's internals).
//
// The lookup name is the one OpenSSH uses: "host" for port 22, "[host]:port"
// otherwise; plain and hashed (|1|salt|hash) entries both match, through
// libssh2_knownhost_checkp. A plain "host" entry is consulted for other ports
// too (libssh2 falls back to it) but a differing key there is reported as
// "not known", not as "changed". @revoked keys are refused;
// @cert-authority lines and lines libssh2 cannot parse are skipped. There is
// no trust-on-first-use: an unknown key is an error that says how to add it.
//
// Thread rules: none inside; used by one thread at a time.
#pragma once

#include <libssh2.h>

#include <memory>
#include <string>
#include <vector>

#include "backend/ssh_remote.h"
#include "common/result.h"

namespace mmcfs::backend {

class KnownHosts {
 public:
  // Reads options.known_hosts. kHostKey if it is unset, missing or unreadable.
  static Result<std::unique_ptr<KnownHosts>> load(LIBSSH2_SESSION* session,
                                                  const SshOptions& options);
  ~KnownHosts();
  KnownHosts(const KnownHosts&) = delete;
  KnownHosts& operator=(const KnownHosts&) = delete;

  // Host key algorithms known_hosts has a key for, for this host, in
  // libssh2's name syntax ("ssh-ed25519,ecdsa-sha2-nistp256"); "" if none.
  // Set as the session's preference before the handshake so the server
  // offers a key we can check (as OpenSSH does).
  std::string known_key_algorithms() const;

  // Checks the key the server offered during the finished handshake.
  // Ok only on an exact match; otherwise kHostKey saying what to do.
  Status verify(LIBSSH2_SESSION* session) const;

 private:
  KnownHosts(LIBSSH2_KNOWNHOSTS* hosts, const SshOptions& options);

  std::string lookup_name() const;  // "[host]:port" or "host"

  LIBSSH2_KNOWNHOSTS* hosts_;
  const SshOptions& options_;
  std::vector<std::string> revoked_keys_;  // base64 key blobs from @revoked lines
};

// "SHA256:<unpadded base64>" of a raw SHA-256 digest (as ssh-keygen -l prints).
std::string sha256_fingerprint(const unsigned char* digest32);
// Standard base64 with padding.
std::string base64_encode(const unsigned char* data, std::size_t size, bool pad);

}  // namespace mmcfs::backend
