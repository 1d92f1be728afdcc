#include "serve/sessions.h"

#include <cstdio>

#include "bit_ttt/error.h"

namespace bit_ttt::serve {

bool valid_session_id(const std::string& id) {
  if (id.empty() || id.size() > 64 || id[0] == '.') return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

SessionStore::SessionStore(const Engine& engine, std::optional<std::filesystem::path> state_dir,
                           size_t max_sessions)
    : engine_(engine), state_dir_(std::move(state_dir)), max_sessions_(max_sessions) {
  if (state_dir_) std::filesystem::create_directories(*state_dir_);
}

std::filesystem::path SessionStore::file_for(const std::string& id) const {
  return *state_dir_ / (id + ".safetensors");
}

std::shared_ptr<Session> SessionStore::get(const std::string& id) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (auto it = sessions_.find(id); it != sessions_.end()) {
    it->second.last_used = now;
    return it->second.session;
  }
  evict_locked();
  std::shared_ptr<Session> session;
  if (state_dir_ && std::filesystem::exists(file_for(id))) {
    session = std::make_shared<Session>(engine_.load(file_for(id)));
  } else {
    session = std::make_shared<Session>(engine_.new_memory());
  }
  sessions_.emplace(id, Entry{session, now});
  return session;
}

void SessionStore::evict_locked() {
  // Drop least recently used sessions no request holds, saving them first.
  while (sessions_.size() >= max_sessions_) {
    auto oldest = sessions_.end();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.session.use_count() > 1) continue;
      if (oldest == sessions_.end() || it->second.last_used < oldest->second.last_used) oldest = it;
    }
    if (oldest == sessions_.end()) return;  // every session is busy: allow more for now
    if (state_dir_) {
      std::lock_guard session_lock(oldest->second.session->mutex);
      engine_.save(oldest->second.session->memory, file_for(oldest->first));
    }
    sessions_.erase(oldest);
  }
}

void SessionStore::save(const std::string& id, Session& session) {
  if (state_dir_) {
    engine_.save(session.memory, file_for(id));
  } else {
    session.snapshot = session.memory;
  }
}

bool SessionStore::load(const std::string& id, Session& session) {
  if (state_dir_) {
    if (!std::filesystem::exists(file_for(id))) return false;
    session.memory = engine_.load(file_for(id));
    return true;
  }
  if (!session.snapshot) return false;
  session.memory = *session.snapshot;
  return true;
}

void SessionStore::save_all() {
  if (!state_dir_) return;
  std::lock_guard lock(mutex_);
  for (auto& [id, entry] : sessions_) {
    std::lock_guard session_lock(entry.session->mutex);
    try {
      engine_.save(entry.session->memory, file_for(id));
    } catch (const Error& error) {
      std::fprintf(stderr, "warning: session %s not saved: %s\n", id.c_str(), error.what());
    }
  }
}

size_t SessionStore::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

}  // namespace bit_ttt::serve
