#include "serve/client_socket.h"

#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdlib>

namespace bit_ttt::serve {
namespace {

int port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  if (address.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  return -1;
}

// The same numeric form httplib puts in Request::remote_addr.
std::string host_of(const sockaddr_storage& address, socklen_t length) {
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host, sizeof(host), nullptr,
                  0, NI_NUMERICHOST) != 0)
    return "";
  return host;
}

bool is_the_connection(int fd, const std::string& remote_addr, int remote_port, int local_port) {
  sockaddr_storage local{};
  socklen_t local_length = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length) != 0) return false;
  if (port_of(local) != local_port) return false;
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof(peer);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) != 0) return false;
  return port_of(peer) == remote_port && host_of(peer, peer_length) == remote_addr;
}

}  // namespace

int find_client_socket(const std::string& remote_addr, int remote_port, int local_port) {
  if (remote_port <= 0 || local_port <= 0) return -1;
  DIR* directory = opendir("/proc/self/fd");
  if (!directory) return -1;
  int found = -1;
  const int directory_fd = dirfd(directory);
  while (const dirent* entry = readdir(directory)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == directory_fd) continue;
    if (is_the_connection(static_cast<int>(fd), remote_addr, remote_port, local_port)) {
      found = static_cast<int>(fd);
      break;
    }
  }
  closedir(directory);
  return found;
}

bool client_socket_closed(int socket) {
  pollfd entry{socket, POLLIN | POLLRDHUP, 0};
  if (poll(&entry, 1, 0) <= 0) return false;  // nothing happened (or EINTR: look next time)
  if (entry.revents & (POLLERR | POLLHUP | POLLNVAL | POLLRDHUP)) return true;
  // Readable: either a pipelined next request (still there) or end of stream.
  char byte;
  return recv(socket, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

bool ClientWatch::gone() {
  if (gone_ || socket_ < 0) return gone_;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return false;
  next_check_ = now + interval_;
  gone_ = client_socket_closed(socket_);
  return gone_;
}

}  // namespace bit_ttt::serve
