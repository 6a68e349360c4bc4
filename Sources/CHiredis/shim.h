#ifndef TRIBUTARY_CHIREDIS_SHIM_H
#define TRIBUTARY_CHIREDIS_SHIM_H

// hiredis is used only as a RESP reader (parser); Tributary does its own networking with SwiftNIO.
#include <hiredis/hiredis.h>
#include <hiredis/read.h>

/// Sets the reader's maximum idle buffer size (0 = never shrink). `maxbuf` is a plain field in 0.14.
static inline void CHiredis_readerSetMaxBuffer(redisReader *reader, size_t maxbuf) {
    reader->maxbuf = maxbuf;
}

/// Returns the reader's error string, or NULL when the reader is healthy.
static inline const char *CHiredis_readerError(const redisReader *reader) {
    return reader->err ? reader->errstr : NULL;
}

#endif
