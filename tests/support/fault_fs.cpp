#include "support/fault_fs.h"

namespace wattprint::testing {
namespace {

Status FaultStatus(FaultFs::Fault f, const std::string& path) {
  if (f == FaultFs::Fault::kPermissionDenied) return Status::PermissionDenied(path + ": Permission denied");
  return Status::IOError(path + ": Input/output error");
}

class FaultHandle final : public FileHandle {
 public:
  FaultHandle(const FaultFs* fs, std::string path, std::unique_ptr<FileHandle> base)
      : fs_(fs), path_(std::move(path)), base_(std::move(base)) {}
  Status Read(std::string* out) override {
    auto [f, repl] = fs_->Lookup(path_);
    switch (f) {
      case FaultFs::Fault::kNone: return base_ ? base_->Read(out) : Status::NotFound(path_);
      case FaultFs::Fault::kEmpty: out->clear(); return Status::Ok();
      case FaultFs::Fault::kReplace: *out = repl; return Status::Ok();
      default: return FaultStatus(f, path_);
    }
  }

 private:
  const FaultFs* fs_;
  std::string path_;
  std::unique_ptr<FileHandle> base_;
};

}  // namespace

FaultFs::FaultFs(std::shared_ptr<FileSystem> base) : base_(std::move(base)) {}

void FaultFs::Set(const std::string& path, Fault f, std::string replacement) {
  std::lock_guard<std::mutex> l(mu_);
  faults_[path] = {f, std::move(replacement)};
}

void FaultFs::Clear(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  faults_.erase(path);
}

std::pair<FaultFs::Fault, std::string> FaultFs::Lookup(const std::string& path) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = faults_.find(path);
  if (it == faults_.end()) return {Fault::kNone, ""};
  return it->second;
}

Result<std::unique_ptr<FileHandle>> FaultFs::Open(const std::string& path) const {
  auto [f, repl] = Lookup(path);
  if (f == Fault::kPermissionDenied || f == Fault::kIOError) return FaultStatus(f, path);
  auto base = base_->Open(path);
  if (!base.ok() && f == Fault::kNone) return base.status();
  std::unique_ptr<FileHandle> h = base.ok() ? std::move(base).value() : nullptr;
  return std::unique_ptr<FileHandle>(new FaultHandle(this, path, std::move(h)));
}

Result<std::vector<std::string>> FaultFs::ListDir(const std::string& path) const {
  return base_->ListDir(path);
}

Result<std::string> FaultFs::ReadLink(const std::string& path) const { return base_->ReadLink(path); }

}  // namespace wattprint::testing
