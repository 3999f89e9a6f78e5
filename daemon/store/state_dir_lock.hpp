#pragma once
// One state directory, one daemon. Two rapportd on the same state_dir (even with different API
// ports) would write one database from two processes, each believing it alone decides what
// was told. The lock is an flock() on state_dir/rapportd.lock, held for the process's life and
// released by the kernel however it ends (kill -9 included), with the holder's pid inside so
// the refusal can say who holds it.
#include <string>

namespace rapport {

class StateDirLock {
public:
    // Creates state_dir if needed; throws StoreError naming the holder's pid and what to do.
    explicit StateDirLock(const std::string& state_dir);
    ~StateDirLock();
    StateDirLock(const StateDirLock&) = delete;
    StateDirLock& operator=(const StateDirLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace rapport
