// password_command as the watchers run it on the worker pool: first line of stdout, clear
// errors that never include the output, a timeout that kills the program, and the program
// started with no signals blocked even from a pool thread that blocks them all.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "app/secret_command.hpp"

using namespace rapport;
using namespace std::chrono_literals;

namespace {
std::optional<std::string> run(const std::vector<std::string>& argv, std::string& error,
                               std::chrono::seconds timeout = std::chrono::seconds(5)) {
    error.clear();
    return run_password_command(argv, timeout, error);
}
}  // namespace

TEST_CASE("the first line of the program's output is the password", "[secret_command]") {
    std::string error;
    auto p = run({"/bin/sh", "-c", "printf 'hunter2\\nsecond line\\n'"}, error);
    REQUIRE(p);
    CHECK(*p == "hunter2");
    CHECK(error.empty());
    p = run({"printf", "crlf\r\n"}, error);  // found on PATH
    REQUIRE(p);
    CHECK(*p == "crlf");
}

TEST_CASE("failures name the program and the reason, never the output", "[secret_command]") {
    std::string error;
    CHECK_FALSE(run({}, error));
    CHECK(error == "password_command is empty");
    CHECK_FALSE(run({"/bin/sh", "-c", "echo leaked; exit 3"}, error));
    CHECK(error == "password_command /bin/sh failed (exit status 3)");
    CHECK_FALSE(run({"no-such-program-rapport"}, error));
    CHECK(error == "password_command no-such-program-rapport could not be run (not found?)");
    CHECK_FALSE(run({"/bin/true"}, error));
    CHECK(error == "password_command /bin/true printed no password (its first line is empty)");
}

TEST_CASE("a program that does not answer is killed at the timeout", "[secret_command]") {
    std::string error;
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(run({"/bin/sleep", "30"}, error, std::chrono::seconds(1)));
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
    CHECK(error == "password_command /bin/sleep did not answer within 1 s; check that it runs without asking for input");
}

TEST_CASE("a program that closes its output and goes on running is killed at the timeout", "[secret_command]") {
    std::string error;
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(run({"/bin/sh", "-c", "echo token; exec >&- 2>&-; exec sleep 30"}, error, std::chrono::seconds(1)));
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
    CHECK(error == "password_command /bin/sh did not answer within 1 s; check that it runs without asking for input");
}

TEST_CASE("a program that prints 1 MB is stopped and refused, not waited on", "[secret_command]") {
    std::string error;
    const auto t0 = std::chrono::steady_clock::now();
    // head -c writes 1 MB into a 64 KiB pipe: without the cap the read would stop and the wait
    // for the blocked writer would never end.
    CHECK_FALSE(run({"/bin/sh", "-c", "head -c 1048576 /dev/zero | tr '\\0' x; echo"}, error,
                    std::chrono::seconds(10)));
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
    CHECK(error == "password_command /bin/sh printed more than 64 KiB; it must print the password alone on its first line");
    CHECK_FALSE(run_password_command({"/bin/sh", "-c", "yes"}, std::chrono::seconds(10), error, "access token"));
    CHECK(error == "password_command /bin/sh printed more than 64 KiB; it must print the access token alone on its first line");
}

TEST_CASE("an OAuth token of a few KB comes back whole; empty output is an error naming the token",
          "[secret_command]") {
    std::string error;
    const std::string token(2500, 'T');
    auto p = run_password_command({"/bin/sh", "-c", "printf '%s\\n' " + token}, std::chrono::seconds(5), error,
                                  "access token");
    REQUIRE(p);
    CHECK(*p == token);
    CHECK_FALSE(run_password_command({"/bin/sh", "-c", "printf '\\n'"}, std::chrono::seconds(5), error, "access token"));
    CHECK(error == "password_command /bin/sh printed no access token (its first line is empty)");
}

TEST_CASE("the program starts with no signal blocked, stdin empty, from a thread that blocks them",
          "[secret_command]") {
    std::promise<std::pair<std::optional<std::string>, std::string>> result;
    std::thread worker([&] {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, nullptr);  // as WorkerPool's threads do
        std::string error;
        // SigBlk in /proc/self/status: the blocked mask, in hex; all zero when none is.
        auto p = run_password_command(
            {"/bin/sh", "-c", "read x; echo \"$(grep SigBlk /proc/self/status | tr -d ' \\t') stdin=${x:-empty}\""},
            std::chrono::seconds(5), error);
        result.set_value({p, error});
    });
    worker.join();
    auto [p, error] = result.get_future().get();
    REQUIRE(p);
    CHECK(*p == "SigBlk:0000000000000000 stdin=empty");
}

TEST_CASE("several threads run password commands at once", "[secret_command]") {
    std::vector<std::future<std::optional<std::string>>> results;
    for (int i = 0; i < 8; ++i)
        results.push_back(std::async(std::launch::async, [i] {
            std::string error;
            return run_password_command({"/bin/sh", "-c", "sleep 0.2; echo pw" + std::to_string(i)},
                                        std::chrono::seconds(10), error);
        }));
    for (int i = 0; i < 8; ++i) {
        auto p = results[static_cast<std::size_t>(i)].get();
        REQUIRE(p);
        CHECK(*p == "pw" + std::to_string(i));
    }
}
