# Build of the one native addon, build/Release/offhook_native.node: `npx node-gyp rebuild --nodedir=/usr`.
# C++17 over node-addon-api at Node-API version 8 (Node >= 12.22 / 14.17 / 16): the addon loads on any
# Node >= 20 without a rebuild. C++ exceptions are ON (NAPI_CPP_EXCEPTIONS): they are the JS errors
# thrown at the boundary, and node-addon-api turns them into JS exceptions; the real-time threads never
# throw (their functions are noexcept), so exceptions never cross a thread. Linux only for now
# (gpio-cdev.cc is the Linux GPIO uAPI).
{
  'targets': [
    {
      'target_name': 'offhook_native',
      # Every .cc / .c under firmware/media/native/ (one level of subfolders too): adding a part of the
      # engine never needs an edit here.
      'sources': [
        "<!@(find firmware/media/native -maxdepth 2 \\( -name '*.cc' -o -name '*.c' \\) | sort)",
      ],
      'include_dirs': [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        'firmware/media/native',
      ],
      # Debian's media libraries (libasound2-dev, libopus-dev, libspeexdsp-dev, libsrtp2-dev).
      'libraries': ["<!@(pkg-config --libs alsa opus speexdsp libsrtp2)", '-lpthread'],
      'defines': [
        'NAPI_VERSION=8',
        'NAPI_CPP_EXCEPTIONS',
        'NODE_ADDON_API_DISABLE_DEPRECATED',
        # A worker being terminated makes every Node-API call fail; without this, the JS exception
        # node-addon-api then fails to throw becomes a C++ exception nobody catches (std::terminate).
        'NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS',
      ],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc!': ['-fno-exceptions', '-std=gnu++17'],
      'cflags': ['-Wall', '-Wextra', '-Wpedantic', '-Wunused-parameter', '-fvisibility=hidden', "<!@(pkg-config --cflags alsa opus speexdsp libsrtp2)"],
      'cflags_cc': ['-std=c++17', '-fexceptions'],
    },
    # sd_notify(3) for the systemd unit (firmware/systemd/sd-notify.ts): plain C over Node-API, its own
    # tiny addon so that the media addon's exports and API version stay as they are.
    {
      'target_name': 'offhook_sdnotify',
      'sources': ['firmware/systemd/native/sd-notify.c'],
      'defines': ['NAPI_VERSION=8'],
      'cflags': ['-Wall', '-Wextra', '-fvisibility=hidden'],
    },
  ],
}
