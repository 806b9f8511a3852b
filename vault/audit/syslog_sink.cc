// The syslog audit sink. syslog(3) is thread-safe and the process has one
// syslog connection, opened with the first device's tag.

#include <syslog.h>

#include <array>
#include <utility>

#include "vault/audit/audit_sink.h"

namespace coffer::audit {
namespace {

constexpr std::array<std::pair<std::string_view, int>, 12> kFacilities{{{"AUTH", LOG_AUTH},
                                                                        {"AUTHPRIV", LOG_AUTHPRIV},
                                                                        {"DAEMON", LOG_DAEMON},
                                                                        {"USER", LOG_USER},
                                                                        {"LOCAL0", LOG_LOCAL0},
                                                                        {"LOCAL1", LOG_LOCAL1},
                                                                        {"LOCAL2", LOG_LOCAL2},
                                                                        {"LOCAL3", LOG_LOCAL3},
                                                                        {"LOCAL4", LOG_LOCAL4},
                                                                        {"LOCAL5", LOG_LOCAL5},
                                                                        {"LOCAL6", LOG_LOCAL6},
                                                                        {"LOCAL7", LOG_LOCAL7}}};

class SyslogSink final : public AuditSink {
 public:
  SyslogSink(int facility, std::string tag) : facility_(facility), tag_(std::move(tag)) {
    ::openlog(tag_.c_str(), LOG_PID | LOG_NDELAY, facility_);
  }
  ~SyslogSink() override { ::closelog(); }  // openlog kept a pointer to tag_
  Status write_line(std::string_view line) override {
    ::syslog(facility_ | LOG_INFO, "%.*s", static_cast<int>(line.size()), line.data());
    return ok_status();
  }

 private:
  const int facility_;
  const std::string tag_;  // openlog keeps the pointer
};

}  // namespace

Result<std::unique_ptr<AuditSink>> open_syslog_sink(const std::string& facility,
                                                    const std::string& tag) {
  for (const auto& [name, value] : kFacilities) {
    if (name == facility) {
      return std::unique_ptr<AuditSink>(std::make_unique<SyslogSink>(value, tag));
    }
  }
  return fail(invalid_argument("unknown syslog facility " + facility));
}

}  // namespace coffer::audit
