// The worker pool as the watchers rely on it: results come back on the io thread, a result
// whose owner is gone is dropped, a job stuck in a long call does not hold up shutdown, and a
// job that throws costs the pool nothing.
#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "app/worker_pool.hpp"

using namespace rapport;
using namespace std::chrono_literals;

namespace {

// Runs the io_context on this thread until `done()` or the timeout; true if done() held.
template <class Pred>
bool run_until(boost::asio::io_context& io, Pred done, std::chrono::milliseconds timeout = 5000ms) {
    auto guard = boost::asio::make_work_guard(io);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) io.run_for(5ms);
    return done();
}

std::shared_ptr<const void> make_owner() { return std::make_shared<int>(0); }

}  // namespace

TEST_CASE("a job runs on a worker and its result is delivered on the io thread", "[worker_pool]") {
    boost::asio::io_context io;
    WorkerPool pool(io);
    auto owner = make_owner();
    const auto io_thread = std::this_thread::get_id();
    std::thread::id job_thread, done_thread;
    std::string got;
    pool.submit<std::string>(
        owner,
        [&job_thread] {
            job_thread = std::this_thread::get_id();
            return std::string("result");
        },
        [&](std::string r) {
            done_thread = std::this_thread::get_id();
            got = std::move(r);
        });
    REQUIRE(run_until(io, [&] { return !got.empty(); }));
    CHECK(got == "result");
    CHECK(done_thread == io_thread);
    CHECK(job_thread != io_thread);
}

TEST_CASE("submit returns at once while the job blocks", "[worker_pool]") {
    boost::asio::io_context io;
    WorkerPool pool(io, 1);
    auto owner = make_owner();
    std::promise<void> release;
    auto gate = release.get_future().share();
    bool done = false;
    const auto t0 = std::chrono::steady_clock::now();
    pool.submit<int>(
        owner,
        [gate] {
            gate.wait_for(5s);
            return 1;
        },
        [&](int) { done = true; });
    CHECK(std::chrono::steady_clock::now() - t0 < 100ms);
    release.set_value();
    CHECK(run_until(io, [&] { return done; }));
}

TEST_CASE("a result is dropped when its owner expired while the job ran", "[worker_pool]") {
    boost::asio::io_context io;
    // One thread: jobs run in order, so the second job's delivery comes after the first's.
    WorkerPool pool(io, 1);
    auto owner = make_owner();
    auto witness = std::make_shared<int>(0);  // captured by the job: released with it
    std::promise<void> release;
    auto gate = release.get_future().share();
    std::atomic<bool> started{false};
    bool first_done = false, second_done = false;
    pool.submit<int>(
        owner,
        [gate, witness, &started] {
            started = true;
            gate.wait_for(5s);
            return *witness;
        },
        [&](int) { first_done = true; });
    auto other = make_owner();
    pool.submit<int>(other, [] { return 2; }, [&](int) { second_done = true; });

    while (!started) std::this_thread::sleep_for(1ms);
    owner.reset();  // the watcher goes away (a reload) while its job is in a blocking call
    release.set_value();
    REQUIRE(run_until(io, [&] { return second_done; }));
    CHECK_FALSE(first_done);
    CHECK(witness.use_count() == 1);  // the job's captures were released, on the worker
}

TEST_CASE("a result is dropped when its owner expired after the job ended", "[worker_pool]") {
    boost::asio::io_context io;
    WorkerPool pool(io, 1);
    auto owner = make_owner();
    bool done = false;
    std::atomic<bool> ran{false};
    pool.submit<int>(
        owner,
        [&ran] {
            ran = true;
            return 1;
        },
        [&](int) { done = true; });
    while (!ran) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(20ms);  // the delivery is now queued on the io_context
    owner.reset();                      // and the owner goes before the io thread runs it
    io.run_for(50ms);
    CHECK_FALSE(done);
}

TEST_CASE("a long job does not hold up the pool's destruction more than about two seconds", "[worker_pool]") {
    boost::asio::io_context io;
    auto owner = make_owner();
    std::promise<void> release;
    auto gate = release.get_future().share();
    auto job_ended = std::make_shared<std::atomic<bool>>(false);
    std::atomic<bool> started{false};
    bool done = false;
    auto pool = std::make_unique<WorkerPool>(io, 2);
    pool->submit<int>(
        owner,
        [gate, job_ended, &started] {
            started = true;
            gate.wait_for(20s);  // an HTTP call that takes its time
            *job_ended = true;
            return 1;
        },
        [&](int) { done = true; });
    while (!started) std::this_thread::sleep_for(1ms);

    const auto t0 = std::chrono::steady_clock::now();
    pool.reset();
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(took >= 1900ms);  // it did wait for the grace period
    CHECK(took < 3s);
    CHECK_FALSE(*job_ended);

    // The detached job finishes later; what it returns is not delivered, even though the
    // owner is still alive and the io_context runs.
    release.set_value();
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!*job_ended && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    REQUIRE(*job_ended);
    std::this_thread::sleep_for(20ms);
    io.run_for(50ms);
    CHECK_FALSE(done);
}

TEST_CASE("an idle pool is destroyed at once, and queued jobs are not run", "[worker_pool]") {
    boost::asio::io_context io;
    auto owner = make_owner();
    std::promise<void> release;
    auto gate = release.get_future().share();
    std::atomic<int> ran{0};
    std::atomic<bool> started{false};
    {
        auto idle = std::make_unique<WorkerPool>(io);
        const auto t0 = std::chrono::steady_clock::now();
        idle.reset();
        CHECK(std::chrono::steady_clock::now() - t0 < 200ms);
    }
    auto pool = std::make_unique<WorkerPool>(io, 1);
    pool->submit<int>(
        owner,
        [gate, &ran, &started] {
            started = true;
            gate.wait_for(5s);
            return ++ran;
        },
        [](int) {});
    for (int i = 0; i < 5; ++i) pool->submit<int>(owner, [&ran] { return ++ran; }, [](int) {});
    while (!started) std::this_thread::sleep_for(1ms);
    // Release the running job from another thread once the destructor is waiting for it.
    std::thread releaser([&] {
        std::this_thread::sleep_for(100ms);
        release.set_value();
    });
    const auto t0 = std::chrono::steady_clock::now();
    pool.reset();
    const auto took = std::chrono::steady_clock::now() - t0;
    releaser.join();
    CHECK(took < 1s);  // joined as soon as the running job ended
    CHECK(ran == 1);   // the five queued behind it were dropped
}

TEST_CASE("many jobs all complete, each delivered once", "[worker_pool]") {
    boost::asio::io_context io;
    WorkerPool pool(io);
    auto owner = make_owner();
    constexpr int kJobs = 500;
    int delivered = 0;
    long long sum = 0;
    std::atomic<int> concurrent{0}, peak{0};
    for (int i = 1; i <= kJobs; ++i)
        pool.submit<int>(
            owner,
            [i, &concurrent, &peak] {
                const int now = ++concurrent;
                int p = peak;
                while (now > p && !peak.compare_exchange_weak(p, now)) {
                }
                std::this_thread::sleep_for(100us);
                --concurrent;
                return i;
            },
            [&](int v) {
                ++delivered;
                sum += v;
            });
    REQUIRE(run_until(io, [&] { return delivered == kJobs; }, 20000ms));
    CHECK(sum == static_cast<long long>(kJobs) * (kJobs + 1) / 2);
    CHECK(peak <= 3);  // the pool's size bounds the blocking work in flight
    io.run_for(20ms);
    CHECK(delivered == kJobs);
}

TEST_CASE("a job that throws is logged, gets no result, and the worker carries on", "[worker_pool]") {
    boost::asio::io_context io;
    WorkerPool pool(io, 1);  // one worker: if the exception killed it, nothing else would run
    auto owner = make_owner();
    bool thrown_done = false, odd_done = false;
    int after = 0;
    pool.submit<int>(owner, []() -> int { throw std::runtime_error("fetch exploded"); },
                     [&](int) { thrown_done = true; });
    pool.submit<int>(owner, []() -> int { throw 42; }, [&](int) { odd_done = true; });
    pool.submit<int>(owner, [] { return 7; }, [&](int v) { after = v; });
    REQUIRE(run_until(io, [&] { return after != 0; }));
    CHECK(after == 7);
    CHECK_FALSE(thrown_done);
    CHECK_FALSE(odd_done);
}

TEST_CASE("move-only results are handed over whole", "[worker_pool]") {
    boost::asio::io_context io;
    WorkerPool pool(io);
    auto owner = make_owner();
    std::unique_ptr<std::string> got;
    pool.submit<std::unique_ptr<std::string>>(
        owner, [] { return std::make_unique<std::string>(100000, 'x'); },
        [&](std::unique_ptr<std::string> r) { got = std::move(r); });
    REQUIRE(run_until(io, [&] { return got != nullptr; }));
    CHECK(got->size() == 100000);
}
