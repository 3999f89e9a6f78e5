// file:PATH — one .ics file, or every .ics file directly in a folder. Re-read when a file's
// modification time or size changes, or files come or go.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <map>
#include <system_error>

#include "calendar/source_kinds.hpp"

namespace rapport::calendar {
namespace {

namespace fs = std::filesystem;

struct Stamp {
    fs::file_time_type mtime;
    std::uintmax_t size = 0;
    bool operator==(const Stamp& o) const { return mtime == o.mtime && size == o.size; }
};

bool has_ics_extension(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".ics" || ext == ".ical" || ext == ".ifb" || ext == ".icalendar";
}

class FileSource final : public CalendarSource {
public:
    FileSource(const SourceSettings& settings, const Url& url) : settings_(settings) {
        path_ = fs::path(url.path);
        if (path_.is_relative()) path_ = settings.base_dir / path_;
    }

    FetchResult fetch(sys_seconds, sys_seconds) override {
        FetchResult result;
        std::error_code ec;
        std::vector<fs::path> files;
        const fs::file_status status = fs::status(path_, ec);
        if (ec || !fs::exists(status)) {
            result.error = "cannot read calendar " + path_.string() + ": " +
                           (ec ? ec.message() : std::string("no such file or folder"));
            return result;
        }
        if (fs::is_directory(status)) {
            for (fs::directory_iterator it(path_, ec), end; !ec && it != end; it.increment(ec)) {
                std::error_code entry_ec;
                if (it->is_regular_file(entry_ec) && has_ics_extension(it->path())) files.push_back(it->path());
                if (files.size() > settings_.max_documents) break;
            }
            if (ec) {
                result.error = "cannot list calendar folder " + path_.string() + ": " + ec.message();
                return result;
            }
            if (files.size() > settings_.max_documents) {
                result.error = "calendar folder " + path_.string() + " holds more than " +
                               std::to_string(settings_.max_documents) + " calendar files";
                return result;
            }
            std::sort(files.begin(), files.end());
        } else {
            files.push_back(path_);
        }

        std::map<fs::path, Stamp> stamps;
        for (const auto& file : files) {
            Stamp stamp;
            stamp.mtime = fs::last_write_time(file, ec);
            if (!ec) stamp.size = fs::file_size(file, ec);
            if (ec) {
                result.error = "cannot read calendar " + file.string() + ": " + ec.message();
                return result;
            }
            stamps.emplace(file, stamp);
        }
        if (read_once_ && stamps == stamps_) {
            result.state = FetchResult::State::unchanged;
            return result;
        }
        for (const auto& file : files) {
            std::ifstream in(file, std::ios::binary);
            if (!in) {
                result.error = "cannot open calendar " + file.string();
                return result;
            }
            // One byte over the limit is enough for the expander to refuse it by size.
            std::string text(std::min<std::uintmax_t>(stamps[file].size, settings_.max_bytes + 1), '\0');
            in.read(text.data(), static_cast<std::streamsize>(text.size()));
            text.resize(static_cast<std::size_t>(in.gcount()));
            result.documents.push_back({file.string(), std::move(text)});
        }
        stamps_ = std::move(stamps);
        read_once_ = true;
        result.state = FetchResult::State::changed;
        return result;
    }

private:
    SourceSettings settings_;
    fs::path path_;
    std::map<fs::path, Stamp> stamps_;
    bool read_once_ = false;
};

}  // namespace

std::unique_ptr<CalendarSource> make_file_source(const SourceSettings& settings, const Url& url) {
    return std::make_unique<FileSource>(settings, url);
}

}  // namespace rapport::calendar
