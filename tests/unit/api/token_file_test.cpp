#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "test_process.hpp"
#include "token_file.hpp"

using namespace rapport::api;
using rapport::test::TempDir;
using rapport::test::read_file;
using rapport::test::write_file;

namespace {
mode_t mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}
bool is_hex64(const std::string& s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}
}  // namespace

TEST_CASE("a missing token file is created 0600 in new 0700 directories", "[api][token]") {
    TempDir dir;
    const std::string path = dir / "run/rapport/token";
    const LoadedToken t = load_or_create_token(path);
    CHECK(t.source == LoadedToken::Source::created);
    CHECK(is_hex64(t.token));
    CHECK(read_file(path) == t.token + "\n");
    CHECK(mode_of(path) == 0600);
    CHECK(mode_of(dir / "run/rapport") == 0700);
    CHECK(mode_of(dir / "run") == 0700);
    // No temp files left behind.
    int entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir / "run/rapport")) (void)e, ++entries;
    CHECK(entries == 1);
}

TEST_CASE("the token is kept across restarts", "[api][token]") {
    TempDir dir;
    const std::string path = dir / "token";
    const std::string first = load_or_create_token(path).token;
    const LoadedToken again = load_or_create_token(path);
    CHECK(again.source == LoadedToken::Source::existing);
    CHECK(again.token == first);
    CHECK(generate_token() != generate_token());
}

TEST_CASE("a readable-by-others token file is replaced with a new private one", "[api][token]") {
    TempDir dir;
    const std::string path = dir / "token";
    const std::string old = load_or_create_token(path).token;
    REQUIRE(::chmod(path.c_str(), 0644) == 0);
    const LoadedToken t = load_or_create_token(path);
    CHECK(t.source == LoadedToken::Source::replaced_insecure);
    CHECK(t.token != old);
    CHECK(mode_of(path) == 0600);
    CHECK(load_or_create_token(path).token == t.token);
}

TEST_CASE("a symlinked token file is replaced, its target untouched", "[api][token]") {
    TempDir dir;
    const std::string target = dir / "elsewhere";
    write_file(target, std::string(64, 'a') + "\n");
    ::chmod(target.c_str(), 0600);
    const std::string path = dir / "token";
    REQUIRE(::symlink(target.c_str(), path.c_str()) == 0);
    const LoadedToken t = load_or_create_token(path);
    CHECK(t.source == LoadedToken::Source::replaced_insecure);
    CHECK(read_file(target) == std::string(64, 'a') + "\n");
    CHECK_FALSE(std::filesystem::is_symlink(path));
}

TEST_CASE("a file without a token is replaced; a hand-written token is kept", "[api][token]") {
    TempDir dir;
    const std::string path = dir / "token";
    write_file(path, "short\n");
    ::chmod(path.c_str(), 0600);
    CHECK(load_or_create_token(path).source == LoadedToken::Source::replaced_malformed);

    const std::string mine = "my-own-token_0123456789.abcdefghijk";
    write_file(path, mine + "\n");
    ::chmod(path.c_str(), 0600);
    const LoadedToken t = load_or_create_token(path);
    CHECK(t.source == LoadedToken::Source::existing);
    CHECK(t.token == mine);
}

TEST_CASE("an unusable location is an error, not a crash", "[api][token]") {
    TempDir dir;
    write_file(dir / "file", "x");
    CHECK_THROWS_AS(load_or_create_token(dir / "file/token"), std::system_error);
}
