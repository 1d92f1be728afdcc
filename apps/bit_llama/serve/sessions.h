// Named TTT memories that persist across requests. Each session is locked while
// a request uses it, so two requests on one session run one after the other and
// sessions never see each other's memory. With a state directory, sessions are
// written there when evicted or at shutdown and read back on first use.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "serve/engine.h"

namespace bit_ttt::serve {

struct Session {
  explicit Session(LlamaMemory initial) : memory(std::move(initial)) {}
  std::mutex mutex;  // held while a request reads or changes the memory
  LlamaMemory memory;
  std::optional<LlamaMemory> snapshot;  // POST .../save without a state directory
};

// Session ids are 1-64 characters of [A-Za-z0-9_.-], not starting with '.', so
// they are safe as file names.
bool valid_session_id(const std::string& id);

class SessionStore {
 public:
  SessionStore(const Engine& engine, std::optional<std::filesystem::path> state_dir,
               size_t max_sessions);

  // The session, created (or read back from the state directory) when new.
  std::shared_ptr<Session> get(const std::string& id);
  // Writes the session's memory to the state directory (caller holds its mutex),
  // or keeps an in-memory snapshot without one.
  void save(const std::string& id, Session& session);
  // Restores what save() kept; false when nothing was saved.
  bool load(const std::string& id, Session& session);
  void save_all();  // at shutdown
  size_t size() const;
  const std::optional<std::filesystem::path>& state_dir() const { return state_dir_; }

 private:
  std::filesystem::path file_for(const std::string& id) const;
  void evict_locked();

  struct Entry {
    std::shared_ptr<Session> session;
    std::chrono::steady_clock::time_point last_used;
  };
  const Engine& engine_;
  std::optional<std::filesystem::path> state_dir_;
  size_t max_sessions_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> sessions_;
};

}  // namespace bit_ttt::serve
