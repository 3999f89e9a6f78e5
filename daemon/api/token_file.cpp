#include "token_file.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace rapport::api {
namespace {

constexpr std::size_t max_token_file_bytes = 4096;

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

bool token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '~' || c == '-';
}

// One line (optionally newline-terminated) of 32..512 token characters.
bool parse_token(std::string content, std::string& token) {
    if (!content.empty() && content.back() == '\n') content.pop_back();
    if (!content.empty() && content.back() == '\r') content.pop_back();
    if (content.size() < 32 || content.size() > 512) return false;
    for (char c : content)
        if (!token_char(c)) return false;
    token = std::move(content);
    return true;
}

void create_private_directories(const std::filesystem::path& dir) {
    if (dir.empty()) return;
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode)) throw std::system_error(ENOTDIR, std::generic_category(), dir.string());
        return;
    }
    create_private_directories(dir.parent_path() == dir ? std::filesystem::path() : dir.parent_path());
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw_errno("cannot create " + dir.string());
}

enum class ReadResult { missing, ok, insecure, malformed };

ReadResult read_existing(const std::filesystem::path& path, std::string& token) {
    struct stat link {};
    if (::lstat(path.c_str(), &link) != 0) {
        if (errno == ENOENT) return ReadResult::missing;
        throw_errno("cannot stat " + path.string());
    }
    if (!S_ISREG(link.st_mode)) return ReadResult::insecure;  // symlink, fifo, directory…
    Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (fd.get() < 0) {
        if (errno == ELOOP) return ReadResult::insecure;
        throw_errno("cannot open " + path.string());
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_errno("cannot stat " + path.string());
    if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0)
        return ReadResult::insecure;
    if (static_cast<std::size_t>(st.st_size) > max_token_file_bytes) return ReadResult::malformed;
    std::string content(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < content.size()) {
        const ssize_t n = ::read(fd.get(), content.data() + got, content.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("cannot read " + path.string());
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    content.resize(got);
    return parse_token(std::move(content), token) ? ReadResult::ok : ReadResult::malformed;
}

void write_all(int fd, const std::string& data, const std::string& what) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("cannot write " + what);
        }
        done += static_cast<std::size_t>(n);
    }
}

void write_atomically(const std::filesystem::path& path, const std::string& content) {
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
    std::string temp = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
    const int raw = ::mkostemp(temp.data(), O_CLOEXEC);  // mode 0600
    if (raw < 0) throw_errno("cannot create a file in " + dir.string());
    Fd fd(raw);
    try {
        if (::fchmod(fd.get(), 0600) != 0) throw_errno("cannot chmod " + temp);
        write_all(fd.get(), content, temp);
        if (::fsync(fd.get()) != 0) throw_errno("cannot fsync " + temp);
        if (::rename(temp.c_str(), path.c_str()) != 0) throw_errno("cannot rename to " + path.string());
    } catch (...) {
        ::unlink(temp.c_str());
        throw;
    }
    Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() >= 0) ::fsync(dir_fd.get());  // best effort: the rename is already visible
}

}  // namespace

std::string generate_token() {
    unsigned char bytes[32];
    std::size_t got = 0;
    while (got < sizeof bytes) {
        const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("getrandom");
        }
        got += static_cast<std::size_t>(n);
    }
    static const char hex[] = "0123456789abcdef";
    std::string token;
    token.reserve(64);
    for (unsigned char b : bytes) {
        token.push_back(hex[b >> 4]);
        token.push_back(hex[b & 0x0f]);
    }
    return token;
}

LoadedToken load_or_create_token(const std::filesystem::path& path) {
    if (path.has_parent_path()) create_private_directories(path.parent_path());
    LoadedToken loaded;
    switch (read_existing(path, loaded.token)) {
        case ReadResult::ok: loaded.source = LoadedToken::Source::existing; return loaded;
        case ReadResult::missing: loaded.source = LoadedToken::Source::created; break;
        case ReadResult::insecure: loaded.source = LoadedToken::Source::replaced_insecure; break;
        case ReadResult::malformed: loaded.source = LoadedToken::Source::replaced_malformed; break;
    }
    loaded.token = generate_token();
    write_atomically(path, loaded.token + "\n");
    return loaded;
}

const char* to_string(LoadedToken::Source source) {
    switch (source) {
        case LoadedToken::Source::existing: return "existing";
        case LoadedToken::Source::created: return "created";
        case LoadedToken::Source::replaced_insecure: return "replaced (the old file was not private)";
        case LoadedToken::Source::replaced_malformed: return "replaced (the old file held no token)";
    }
    return "unknown";
}

}  // namespace rapport::api
