// Includes for FFmpeg's libraries and tiny wrappers for what Swift cannot import (function-like macros).
#ifndef LUMIERE_CFFMPEG_SHIM_H
#define LUMIERE_CFFMPEG_SHIM_H
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libavutil/opt.h>
#include <libavutil/channel_layout.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/error.h>
#include <libavutil/hash.h>
#include <libavutil/display.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersrc.h>
#include <libavfilter/buffersink.h>

static inline int lumiere_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int lumiere_averror_eof(void) { return AVERROR_EOF; }
static inline int lumiere_averror_enomem(void) { return AVERROR(ENOMEM); }
static inline int lumiere_averror_einval(void) { return AVERROR(EINVAL); }
static inline int64_t lumiere_av_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int lumiere_av_time_base(void) { return AV_TIME_BASE; }
#endif
