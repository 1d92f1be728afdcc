// Noticing that a client went away while its (non-streaming) request runs.
// cpp-httplib 0.11 (Debian 12) tells a streaming content provider through
// DataSink::is_writable(), but gives a plain handler neither the socket nor a
// "connection closed" check (newer versions have Request::is_connection_closed).
// The request's connection is the one socket of this process whose local port
// and peer address are the request's (a TCP connection is unique by those), so
// it is found once from /proc/self/fd and then looked at between tokens.
#pragma once

#include <chrono>
#include <string>

namespace bit_ttt::serve {

// The descriptor of this process's TCP socket connected from remote_addr
// (numeric, as httplib gives it) port remote_port to local port local_port, or
// -1 when there is none.
int find_client_socket(const std::string& remote_addr, int remote_port, int local_port);

// True when the peer closed or reset the connection: an error, a hang-up, or an
// end of stream with nothing left to read. A client that only shuts down its
// sending side after the request counts as gone too, as it does for httplib's
// own check on streams.
bool client_socket_closed(int socket);

// Watches one client socket, looking at most every `interval` so a fast decode
// loop does not pay a system call per token.
class ClientWatch {
 public:
  ClientWatch(int socket, std::chrono::milliseconds interval)
      : socket_(socket), interval_(interval) {}
  bool gone();  // latches: once gone, always gone

 private:
  int socket_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point next_check_{};
  bool gone_ = false;
};

}  // namespace bit_ttt::serve
