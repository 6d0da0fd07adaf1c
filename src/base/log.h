// log.h — minimal leveled logging to stderr, one line per call. printf-style formatting.
// Thread-safe (one write(2) per line). MAAS_LOG_LEVEL=debug|info|warn|error sets the threshold.
#pragma once

namespace maas {
enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
void log_message(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void set_log_level(LogLevel level);
}  // namespace maas

#define LOG_DEBUG(...) ::maas::log_message(::maas::LogLevel::kDebug, __VA_ARGS__)
#define LOG_INFO(...) ::maas::log_message(::maas::LogLevel::kInfo, __VA_ARGS__)
#define LOG_WARN(...) ::maas::log_message(::maas::LogLevel::kWarn, __VA_ARGS__)
#define LOG_ERROR(...) ::maas::log_message(::maas::LogLevel::kError, __VA_ARGS__)
