#include "effects/draft_intent.hpp"

#include <time.h>

#include <cstdlib>

#include "mime/draft_message.hpp"

namespace rapport {
namespace {

struct tm local_tm(TimePoint t) {
    const time_t s = static_cast<time_t>(t.time_since_epoch().count());
    struct tm out {};
    localtime_r(&s, &out);
    return out;
}

}  // namespace

std::string format_local(TimePoint t, const char* pattern) {
    const struct tm tm = local_tm(t);
    char buf[128];
    const std::size_t n = strftime(buf, sizeof buf, pattern, &tm);
    return std::string(buf, n);
}

std::string zone_label(TimePoint t) {
    const char* tz = std::getenv("TZ");
    if (tz && *tz) return tz[0] == ':' ? tz + 1 : tz;
    return format_local(t, "%Z");
}

std::optional<std::string> draft_bytes(const ComposedDraft& draft, const std::string& draft_id, const Settings& settings,
                                       TimePoint now, std::string* error) {
    mime::DraftEnvelope envelope;
    envelope.from = {settings.user_name, settings.user_address};
    const auto at = settings.user_address.find('@');
    envelope.message_id = "<" + draft_id + "@" +
                          (at == std::string::npos ? std::string("rapport.invalid") : settings.user_address.substr(at + 1)) + ">";
    envelope.date_epoch_seconds = now.time_since_epoch().count();
    envelope.utc_offset_minutes = static_cast<int>(local_tm(now).tm_gmtoff / 60);
    envelope.draft_id = draft_id;
    try {
        return mime::build_draft_message(draft, envelope);
    } catch (const mime::DraftEnvelopeError& e) {
        if (error) *error = std::string(e.what()) + "; check user.address in the settings";
        return std::nullopt;
    }
}

}  // namespace rapport
