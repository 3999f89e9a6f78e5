#include "app/worker_pool.hpp"

#include <boost/asio/post.hpp>

#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <string>

#include "app/log.hpp"

namespace rapport {

struct WorkerPool::Shared {
    explicit Shared(boost::asio::io_context& context, std::size_t threads) : io(context), finished(threads, false) {}

    boost::asio::io_context& io;
    std::mutex mutex;
    std::condition_variable wake;    // a job was queued, or the pool stops
    std::condition_variable exited;  // a worker left its loop
    std::deque<Task> queue;
    // Set by the destructor. From then on nothing is posted to `io`: a detached worker may
    // finish after the io_context is gone. Posting happens under `mutex`, so once the
    // destructor has set this no post is in progress either.
    bool stopping = false;
    std::vector<bool> finished;  // per slot: that worker left its loop (joining it is instant)
};

WorkerPool::WorkerPool(boost::asio::io_context& io, std::size_t threads)
    : shared_(std::make_shared<Shared>(io, threads == 0 ? 1 : threads)) {
    const std::size_t n = shared_->finished.size();
    threads_.reserve(n);
    try {
        for (std::size_t i = 0; i < n; ++i) threads_.emplace_back(&WorkerPool::work, shared_, i);
    } catch (...) {
        // Out of threads: stop the ones started (they are idle), or ~thread would terminate.
        {
            std::lock_guard<std::mutex> lock(shared_->mutex);
            shared_->stopping = true;
        }
        shared_->wake.notify_all();
        for (auto& t : threads_) t.join();
        throw;
    }
}

WorkerPool::~WorkerPool() {
    std::deque<Task> dropped;
    {
        std::lock_guard<std::mutex> lock(shared_->mutex);
        shared_->stopping = true;
        dropped.swap(shared_->queue);
    }
    shared_->wake.notify_all();
    // Jobs never started are not run: their captures are released here, off the lock (a
    // capture's destructor might submit again).
    dropped.clear();

    std::vector<bool> finished;
    {
        std::unique_lock<std::mutex> lock(shared_->mutex);
        shared_->exited.wait_for(lock, kStopGrace, [this] {
            for (bool f : shared_->finished)
                if (!f) return false;
            return true;
        });
        finished = shared_->finished;
    }
    std::size_t left = 0;
    for (std::size_t i = 0; i < threads_.size(); ++i) {
        if (finished[i]) {
            threads_[i].join();
        } else {
            // Still inside a job (an HTTP call, a password prompt). It holds `Shared` and its
            // own captures, so it may go on alone; its result is dropped.
            threads_[i].detach();
            ++left;
        }
    }
    if (left > 0)
        log::warning(std::to_string(left) + " background job(s) still running after " +
                     std::to_string(kStopGrace.count()) + " ms; not waiting for them");
}

void WorkerPool::enqueue(Task task) {
    {
        std::lock_guard<std::mutex> lock(shared_->mutex);
        if (shared_->stopping) return;
        shared_->queue.push_back(std::move(task));
    }
    shared_->wake.notify_one();
}

void WorkerPool::work(std::shared_ptr<Shared> s, std::size_t slot) {
    // Asynchronous signals (SIGHUP, SIGTERM, SIGINT, SIGCHLD…) go to the io thread, where
    // Asio's signal_set waits for them. Here they would only interrupt a blocking call
    // (EINTR in the middle of reading a password). Faults stay unblocked: blocking them is
    // undefined.
    sigset_t mask;
    sigfillset(&mask);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) sigdelset(&mask, sig);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);

    for (;;) {
        Task task;
        {
            std::unique_lock<std::mutex> lock(s->mutex);
            s->wake.wait(lock, [&] { return s->stopping || !s->queue.empty(); });
            if (s->stopping) break;
            task = std::move(s->queue.front());
            s->queue.pop_front();
        }
        Delivery delivery;
        try {
            delivery = task();
        } catch (const std::exception& e) {
            log::error(std::string("background job failed: ") + e.what());
        } catch (...) {
            log::error("background job failed with an unknown exception");
        }
        task = nullptr;  // the job's captures go now, not when the next job arrives
        if (delivery) {
            std::lock_guard<std::mutex> lock(s->mutex);
            // post() never runs the handler inline, so holding the lock here cannot deadlock.
            if (!s->stopping) boost::asio::post(s->io, std::move(delivery));
        }
        // A delivery not posted (the pool stops) is destroyed here, off the lock.
    }
    {
        std::lock_guard<std::mutex> lock(s->mutex);
        s->finished[slot] = true;
    }
    s->exited.notify_all();
}

}  // namespace rapport
