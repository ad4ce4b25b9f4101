// DataType lives in the public header.
#pragma once
#include "petrel/dtype.hpp"
