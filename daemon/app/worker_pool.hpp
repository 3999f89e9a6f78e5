#pragma once
// A few threads for the work that blocks or burns CPU (password_command, calendar fetches that
// may wait 30 s on HTTP, libical expansion), so that the daemon's io_context thread never does.
// A job computes a value from what it captured; the value is handed back on the io thread,
// and only if the job's owner still exists then. So a watcher destroyed by a reload or a stop
// never joins a worker and never receives a late result.
//
// Rules for jobs:
//  - They never touch DaemonState or anything else owned by the io thread: capture by value
//    or by shared_ptr what they need, so destroying the owner while a job runs is safe.
//  - An exception thrown by a job is caught on the worker and logged; `done` is then not
//    called. A caller that must always hear back (to reschedule) catches inside its job.
//  - `done` runs on the io thread like any handler (an exception it throws leaves io.run()).
//  - Result is move-constructible and not void (return a bool or a struct instead).
//
// Lifetime: the pool must be destroyed before its io_context (the workers post to it) and
// after everything that submits to it. Its destructor drops queued jobs, waits at most
// kStopGrace for running ones and leaves the rest running detached: process exit must not
// hang on an HTTP call. A job still running then delivers nothing.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace rapport {

class WorkerPool {
public:
    explicit WorkerPool(boost::asio::io_context& io, std::size_t threads = 3);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // Runs job() on a worker; then posts done(result) to the io_context, but only if `owner`
    // has not expired by then (checked on the io thread right before calling done). Never
    // blocks the caller beyond a brief lock; callable from any thread. Jobs start in the
    // order submitted, and run concurrently up to the number of threads.
    template <class Result>
    void submit(std::weak_ptr<const void> owner, std::function<Result()> job, std::function<void(Result)> done);

    static constexpr std::chrono::milliseconds kStopGrace{2000};

private:
    // Type-erased form of a job: runs on a worker and returns what to run on the io thread.
    using Delivery = std::function<void()>;
    using Task = std::function<Delivery()>;
    void enqueue(Task task);

    // Everything the workers touch, shared with them so that a detached worker outlives the
    // pool safely.
    struct Shared;
    static void work(std::shared_ptr<Shared> shared, std::size_t slot);

    std::shared_ptr<Shared> shared_;
    std::vector<std::thread> threads_;
};

template <class Result>
void WorkerPool::submit(std::weak_ptr<const void> owner, std::function<Result()> job,
                        std::function<void(Result)> done) {
    static_assert(!std::is_void_v<Result>, "WorkerPool jobs return a value");
    enqueue([owner = std::move(owner), job = std::move(job), done = std::move(done)]() mutable -> Delivery {
        // Held through a shared_ptr because std::function needs a copyable target and Result
        // may be move-only (or just large: an expanded calendar).
        auto result = std::make_shared<Result>(job());
        return [owner = std::move(owner), done = std::move(done), result = std::move(result)]() mutable {
            // Kept locked while done runs, so the owner cannot expire half-way through it.
            if (auto alive = owner.lock()) done(std::move(*result));
        };
    });
}

}  // namespace rapport
