#include "policy/action.h"

#include <algorithm>
#include <string>
#include <vector>

namespace hokan {

const std::vector<std::string>& AllActions() {
  static const std::vector<std::string>* const kNames =
      new std::vector<std::string>(kAllActions.begin(), kAllActions.end());
  return *kNames;
}

bool IsKnownAction(std::string_view action) {
  return std::find(kAllActions.begin(), kAllActions.end(), action) != kAllActions.end();
}

}  // namespace hokan
