// Status and Result live in the public header.
#pragma once
#include "petrel/status.hpp"
