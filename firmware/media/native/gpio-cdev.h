// GPIO character device, Linux uAPI v2 (<linux/gpio.h>): chips, line requests, edge events.
#ifndef OFFHOOK_GPIO_CDEV_H
#define OFFHOOK_GPIO_CDEV_H

#include <napi.h>

namespace offhook::gpio {

/// The GpioChip class: constructed with a path (gpio.openChip), methods lineInfo, requestLines, close.
Napi::Function define_chip_class(Napi::Env env);

/// The GpioLineRequest class: getValues, setValues, ref, unref, release (and inject / injectHangUp on
/// a loopback). Only the addon constructs it; from JS `new` throws.
Napi::Function define_line_request_class(Napi::Env env);

/// gpio.loopbackRequest({ offsets }, onEvent): a line request whose "kernel" is a pipe the caller
/// writes gpio_v2_line_event records into with inject(); it runs the same event thread and
/// thread-safe function as a real request, so that path is tested where no GPIO chip exists.
Napi::Value loopback_request(const Napi::CallbackInfo& info, Napi::FunctionReference& line_request_class);

}  // namespace offhook::gpio

#endif  // OFFHOOK_GPIO_CDEV_H
