#pragma once
// The API token file (CONTRACT.md: one line, mode 0600, same token across restarts).
//
// load_or_create_token(path):
// - creates missing parent directories with mode 0700 (existing ones are left alone);
// - reads an existing file when it is safe: a regular file (not a symlink) owned by us, with
//   no group/other permission bits, holding one line of 32–512 characters [A-Za-z0-9._~-];
// - otherwise writes a new token — 32 bytes from getrandom(2), hex-encoded (64 chars) — to a
//   temp file (0600) in the same directory, fsyncs it, renames it over the path and fsyncs the
//   directory, so a crash leaves either the old file or the new one, never half of one.
// A file that others could read is replaced, not chmod-ed: its token may already have leaked,
// so it must stop opening the API. The result says why a new token was written so the daemon
// can log it (the token itself is never logged).
// Throws std::system_error when the directory or file cannot be created/read.
#include <filesystem>
#include <string>

namespace rapport::api {

struct LoadedToken {
    enum class Source {
        existing,            // read from the file
        created,             // there was no file
        replaced_insecure,   // the file was group/world accessible, a symlink, not ours, not regular
        replaced_malformed,  // the file's content was not a token
    };
    std::string token;
    Source source = Source::existing;
};

LoadedToken load_or_create_token(const std::filesystem::path& path);

// 64 lowercase hex characters from 32 bytes of getrandom(2).
std::string generate_token();

const char* to_string(LoadedToken::Source source);

}  // namespace rapport::api
