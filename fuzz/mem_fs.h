// An in-memory FileSystem for the fuzzers: files are path -> bytes, kept in
// one shared map, so that a handle opened before a change reads the new
// bytes (as sysfs files do). Directories are implied by the paths below
// them.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "wattprint/fs.h"

namespace wattprint::fuzz {

class MemFs final : public FileSystem {
 public:
  void Set(const std::string& path, std::string bytes) {
    std::lock_guard<std::mutex> l(state_->mu);
    state_->files[path] = std::move(bytes);
  }
  void Remove(const std::string& path) {
    std::lock_guard<std::mutex> l(state_->mu);
    state_->files.erase(path);
  }
  void Link(const std::string& path, std::string target) {
    std::lock_guard<std::mutex> l(state_->mu);
    state_->links[path] = std::move(target);
  }

  Result<std::unique_ptr<FileHandle>> Open(const std::string& path) const override {
    std::lock_guard<std::mutex> l(state_->mu);
    if (!state_->files.count(path)) return Status::NotFound(path + ": no such file");
    return std::unique_ptr<FileHandle>(new Handle(state_, path));
  }
  Result<std::vector<std::string>> ListDir(const std::string& path) const override {
    std::lock_guard<std::mutex> l(state_->mu);
    const std::string prefix = path.ends_with('/') ? path : path + "/";
    std::set<std::string> names;
    auto add = [&](const std::string& p) {
      if (!p.starts_with(prefix) || p.size() == prefix.size()) return;
      names.insert(p.substr(prefix.size(), p.find('/', prefix.size()) - prefix.size()));
    };
    for (const auto& [p, bytes] : state_->files) add(p);
    for (const auto& [p, target] : state_->links) add(p);
    if (names.empty()) return Status::NotFound(path + ": no such directory");
    return std::vector<std::string>(names.begin(), names.end());
  }
  Result<std::string> ReadLink(const std::string& path) const override {
    std::lock_guard<std::mutex> l(state_->mu);
    auto it = state_->links.find(path);
    if (it == state_->links.end()) return Status::NotFound(path + ": not a link");
    return it->second;
  }

 private:
  struct State {
    std::mutex mu;
    std::map<std::string, std::string> files;
    std::map<std::string, std::string> links;
  };
  class Handle final : public FileHandle {
   public:
    Handle(std::shared_ptr<State> s, std::string path) : s_(std::move(s)), path_(std::move(path)) {}
    Status Read(std::string* out) override {
      std::lock_guard<std::mutex> l(s_->mu);
      auto it = s_->files.find(path_);
      if (it == s_->files.end()) return Status::IOError(path_ + ": removed");
      *out = it->second;
      return Status::Ok();
    }
    bool Stale() const override {
      std::lock_guard<std::mutex> l(s_->mu);
      return !s_->files.count(path_);
    }

   private:
    std::shared_ptr<State> s_;
    std::string path_;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace wattprint::fuzz
