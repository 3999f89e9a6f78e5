#include "native_host.hpp"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace rapport::cli {

using nlohmann::json;

namespace {

void write_message(std::ostream& out, const json& message) {
    const std::string body = message.dump();
    const auto n = static_cast<std::uint32_t>(body.size());
    const char header[4] = {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
                            static_cast<char>((n >> 16) & 0xff), static_cast<char>((n >> 24) & 0xff)};
    out.write(header, 4);
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
    out.flush();
}

}  // namespace

int run_native_host(std::istream& in, std::ostream& out, std::ostream& err, const std::function<json()>& connection) {
    while (true) {
        unsigned char header[4];
        in.read(reinterpret_cast<char*>(header), 4);
        if (in.gcount() == 0) return 0;  // Thunderbird closed stdin: the add-on disconnected
        if (in.gcount() != 4) {
            err << "rapportctl native-host: input ended inside a message header; expected 4-byte length + JSON\n";
            return 1;
        }
        const std::uint32_t length = header[0] | (header[1] << 8) | (header[2] << 16) | (std::uint32_t(header[3]) << 24);
        if (length > kMaxNativeMessage) {
            const std::string why = "a message of " + std::to_string(length) + " bytes is over the host's limit of " +
                                    std::to_string(kMaxNativeMessage) + " bytes; send {\"method\":\"connection\"}";
            err << "rapportctl native-host: " << why << "\n";
            write_message(out, {{"error", why}});
            return 1;  // the stream cannot be resynchronised without reading it all
        }
        std::string body(length, '\0');
        in.read(body.data(), length);
        if (static_cast<std::uint32_t>(in.gcount()) != length) {
            err << "rapportctl native-host: input ended inside a message (" << in.gcount() << " of " << length << " bytes)\n";
            return 1;
        }
        const json request = json::parse(body, nullptr, false);
        if (request.is_discarded() || !request.is_object()) {
            write_message(out, {{"error", "the message is not a JSON object; send {\"method\":\"connection\"}"}});
            continue;
        }
        const auto method = request.find("method");
        if (method == request.end() || !method->is_string() || *method != "connection") {
            write_message(out, {{"error", "unknown method; this host answers only {\"method\":\"connection\"}"}});
            continue;
        }
        try {
            write_message(out, connection());
        } catch (const std::exception& e) {
            write_message(out, {{"error", e.what()}});
        }
    }
}

bool launched_by_mozilla(int argc, char** argv) {
    if (argc < 2 || argc > 3) return false;
    const std::string manifest = argv[1];
    return manifest.size() > 5 && manifest[0] == '/' && manifest.compare(manifest.size() - 5, 5, ".json") == 0;
}

std::string install_user_manifest(const std::string& dir_given) {
    std::string dir = dir_given;
    if (dir.empty()) {
        const char* home = std::getenv("HOME");
        if (!home || !*home) throw std::runtime_error("HOME is not set; give the folder: rapportctl native-host --install DIR");
        dir = std::string(home) + "/.mozilla/native-messaging-hosts";
    }
    char self[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) throw std::runtime_error(std::string("cannot find this program's path: ") + std::strerror(errno));
    const std::string exe(self, static_cast<std::size_t>(n));
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create " + dir + ": " + ec.message());
    const std::string path = dir + "/rapport.json";
    const json manifest = {{"name", "rapport"},
                           {"description", "Rapport: tells the Thunderbird add-on where rapportd listens"},
                           {"path", exe},
                           {"type", "stdio"},
                           {"allowed_extensions", {kAddonId}}};
    std::ofstream f(path, std::ios::trunc);
    f << manifest.dump(2) << "\n";
    if (!f) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    return path;
}

}  // namespace rapport::cli
