// The studio's palette: the desktop's by default (a dark desktop gives dark plots: every
// panel reads its colours from the palette), or forced light / dark (--palette).
#pragma once

#include <QString>

namespace maw::ui {

// "desktop" (leave Qt's platform palette), "light" or "dark" (Fusion style with a fixed
// palette). Call before the main window is built. False for an unknown name.
bool apply_palette(const QString& name);

}  // namespace maw::ui
