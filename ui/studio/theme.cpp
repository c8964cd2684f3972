#include "studio/theme.h"

#include <QApplication>
#include <QPalette>
#include <QStyle>
#include <QStyleFactory>

namespace maw::ui {

bool apply_palette(const QString& name) {
  if (name == "desktop") return true;
  if (name != "light" && name != "dark") return false;
  QApplication::setStyle(QStyleFactory::create("Fusion"));
  if (name == "light") {
    QApplication::setPalette(QApplication::style()->standardPalette());
    return true;
  }
  QPalette p;
  const QColor window(45, 45, 48), base(30, 30, 32), text(225, 225, 225), dim(140, 140, 140);
  p.setColor(QPalette::Window, window);
  p.setColor(QPalette::WindowText, text);
  p.setColor(QPalette::Base, base);
  p.setColor(QPalette::AlternateBase, window);
  p.setColor(QPalette::ToolTipBase, base);
  p.setColor(QPalette::ToolTipText, text);
  p.setColor(QPalette::PlaceholderText, dim);
  p.setColor(QPalette::Text, text);
  p.setColor(QPalette::Button, window);
  p.setColor(QPalette::ButtonText, text);
  p.setColor(QPalette::BrightText, Qt::red);
  p.setColor(QPalette::Link, QColor(90, 160, 240));
  p.setColor(QPalette::Highlight, QColor(60, 120, 200));
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::Mid, QColor(85, 85, 90));
  p.setColor(QPalette::Dark, QColor(25, 25, 27));
  p.setColor(QPalette::Light, QColor(70, 70, 74));
  for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
    p.setColor(QPalette::Disabled, role, dim);
  QApplication::setPalette(p);
  return true;
}

}  // namespace maw::ui
